// `spyglass completions bash|zsh|fish`: the bash script is sourced into a real bash and
// asked what completes a few command lines (subcommands, options, a format's choices, a
// running Python's pid for -p); zsh's wraps it through bashcompinit; fish's names every
// subcommand and option. An unknown shell is a usage error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';

/** What the bash script offers for each command line, the last word being completed. */
function complete(script: string, lines: string[][]): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-compl-'));
  try {
    const file = join(dir, 'spyglass.bash');
    writeFileSync(file, script);
    const calls = lines
      .map((words) => {
        const quoted = words.map((w) => `'${w}'`).join(' ');
        return `COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; COMPREPLY=(); _spyglass; echo "\${COMPREPLY[*]}"`;
      })
      .join('\n');
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `source ${file}\n${calls}`], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout
      .split('\n')
      .slice(0, lines.length)
      .map((l) => l.split(' ').filter(Boolean));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('completions', () => {
  test('bash: subcommands, options, choices and Python pids', async (t) => {
    const target = await startTarget(discoverPythons()[0], 'profile_split.py');
    t.after(() => target.stop());
    const run = await runCli(['completions', 'bash']);
    assert.equal(run.code, 0, run.stderr);
    const [subs, rootOptions, rate, formats, dumpN, pidAfterP, pidBare, shells, afterRate] = complete(run.stdout, [
      ['spyglass', ''],
      ['spyglass', '--'],
      ['spyglass', 'record', '--ra'],
      ['spyglass', 'record', '--format', ''],
      ['spyglass', 'dump', '--n'],
      ['spyglass', 'record', '-p', ''],
      ['spyglass', 'dump', ''],
      ['spyglass', 'completions', ''],
      ['spyglass', 'record', '-r', ''],
    ]);
    for (const s of ['ps', 'dump', 'attach', 'record', 'top', 'web', 'demo', 'completions', String(target.pid)])
      assert.ok(subs.includes(s), s);
    assert.deepEqual(rootOptions.sort(), ['--debug', '--help', '--version']);
    assert.deepEqual(rate, ['--rate']);
    assert.deepEqual(formats.sort(), ['chrometrace', 'collapsed', 'flamegraph', 'pprof', 'raw', 'speedscope']);
    assert.deepEqual(dumpN.sort(), ['--native', '--native-all', '--nonblocking']);
    assert.ok(pidAfterP.includes(String(target.pid)), `pid ${target.pid} in ${pidAfterP}`);
    assert.ok(!pidAfterP.includes(String(process.pid)), 'node is not Python');
    assert.ok(pidBare.includes(String(target.pid)), 'dump PID');
    assert.deepEqual(shells.sort(), ['bash', 'fish', 'zsh']);
    assert.deepEqual(afterRate, [], 'no files or pids offered for a number');
  });

  test('zsh and fish; an unknown shell', async () => {
    const zsh = await runCli(['completions', 'zsh']);
    assert.equal(zsh.code, 0, zsh.stderr);
    assert.match(zsh.stdout, /^#compdef spyglass\n/);
    assert.match(zsh.stdout, /bashcompinit/);
    assert.match(zsh.stdout, /^complete -o default -F _spyglass spyglass$/m);
    const fish = await runCli(['completions', 'fish']);
    assert.equal(fish.code, 0, fish.stderr);
    assert.match(fish.stdout, /^complete -c spyglass -n '__fish_use_subcommand' -a record -d /m);
    assert.match(fish.stdout, /^complete -c spyglass -n '__fish_seen_subcommand_from record' -s r -l rate -r -d /m);
    assert.match(fish.stdout, /^complete -c spyglass -n '__fish_seen_subcommand_from dump' -l nonblocking -d /m);
    const bad = await runCli(['completions', 'tcsh']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /tcsh/);
    assert.match(bad.stderr, /bash, zsh, fish/);
  });
});
