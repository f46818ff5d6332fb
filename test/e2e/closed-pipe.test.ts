// A closed stdout (`spyglass ... | head -1`) ends spyglass quietly: exit 0, no stack trace
// on stderr, and everything it held released. On every interpreter, against
// test/targets/shell_app.py: dump, dump --json, one-shot watch and trace (--json), and the
// shell reading a piped script, each read by a reader that closes after the first line;
// afterwards every watched or traced function is its original code again and the target
// keeps making progress. Once, as the same everywhere: output far over a pipe's buffer (the
// write then surely fails), ps, every --help, record --blocking (the target resumed and
// detached), demo (its service stopped), top (refuses a pipe).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';
import { assertShellAppUntouched } from '../helpers/shell-app.js';
import { runCli, type CliRun } from '../helpers/cli.js';

const TOP_LEVEL = ['ps', 'dump', 'attach', 'record', 'top', 'demo'];

/** `| head -N`: the CLI's run with stdout closed after N lines */
const head = (args: string[], lines = 1, opts: { input?: string; timeoutMs?: number } = {}) =>
  runCli(args, { closeStdoutAfterLines: lines, ...opts });

/** Ended quietly: exit 0, the first line(s) read, nothing on stderr that looks like a crash. */
function quiet(r: CliRun, what: string, firstLine?: RegExp): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\nstderr: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /EPIPE|ERR_STREAM|\n\s+at |internal error|Unhandled/, `${what}: stderr: ${r.stderr}`);
  if (firstLine) assert.match(r.stdout.split('\n')[0], firstLine, what);
}

describe('closed stdout, on every interpreter', { concurrency: 3 }, () => {
  for (const py of discoverPythons()) {
    test(`${py.label}: dump, one-shot watch/trace, the piped shell: exit 0, hooks removed`, async (t) => {
      const target = await startTarget(py, 'shell_app.py');
      t.after(() => target.stop());
      const pid = String(target.pid);

      quiet(await head(['dump', pid]), 'dump', new RegExp(`^Process ${pid}: Python ${py.version.replace(/\./g, '\\.')}`));
      quiet(await head(['dump', pid, '--json']), 'dump --json', /^\{$/);
      // streaming: the first call comes, the reader leaves, the next write fails and the watch ends
      const watch = await head([pid, '--cmd', 'watch __main__ handle --expr args -n 1000'], 1, { timeoutMs: 60000 });
      quiet(watch, 'watch', /^─── \S+ {2}__main__\.handle {2}cost=/);
      assert.match(watch.stderr, /call\(s\) shown \(stopped\); hook removed/);
      const trace = await head([pid, '--json', '--cmd', 'trace __main__ Greeter greet -n 1000'], 1, { timeoutMs: 60000 });
      quiet(trace, 'trace --json');
      assert.equal((JSON.parse(trace.stdout) as { event: string }).event, 'started');
      // the shell reading a script from a pipe: the running command stops, the shell leaves
      const shell = await head([pid], 2, { input: 'watch __main__ handle -n 1000\nstack\n', timeoutMs: 60000 });
      quiet(shell, 'shell', /^─── /);
      assert.doesNotMatch(shell.stdout, /^Process /m, 'the shell left before the next line');
      await assertShellAppUntouched(target);
    });
  }
});

describe('closed stdout, once', { concurrency: 2 }, () => {
  const py = discoverPythons().find((p) => p.minor === '3.12') ?? discoverPythons()[0];

  test('output far over the pipe buffer (dump of 40 threads 150 deep, text and JSON), ps, every --help', async (t) => {
    const target = await startTarget(py, 'deep_threads.py', ['40', '150']);
    t.after(() => target.stop());
    const pid = String(target.pid);
    const full = await runCli(['dump', pid]);
    assert.ok(full.stdout.length > 256 * 1024, `a dump of ${full.stdout.length} bytes: the writes outlast the reader`);
    quiet(await head(['dump', pid]), 'dump', /^Process /);
    quiet(await head(['dump', pid, '--json']), 'dump --json', /^\{$/);
    assert.ok(target.alive());
    quiet(await head(['ps']), 'ps', /^\s*PID {2}PYTHON/);
    quiet(await head(['ps', '--json']), 'ps --json', /^\[$/);
    quiet(await head(['--help']), '--help', /^Usage: spyglass /);
    for (const cmd of TOP_LEVEL) quiet(await head([cmd, '--help']), `${cmd} --help`, new RegExp(`^Usage: spyglass ${cmd} `));
  });

  test('record --blocking with stdout and stderr closed: the profile is written, the target resumed and detached', async (t) => {
    const target = await startTarget(py, 'shell_app.py');
    const dir = mkdtempSync(join(tmpdir(), 'spyglass-closed-pipe-'));
    t.after(async () => {
      await target.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const out = join(dir, 'p.txt');
    // record writes its summary on stderr: here both streams are the pipe that closes
    // --idle: every thread is paused and sampled, so the sleeping `caller` thread is in the
    // profile whatever the load (without it only threads caught running are, by chance)
    const r = await runCli(['record', '--blocking', '--idle', '-p', String(target.pid), '-d', '1', '-f', 'collapsed', '-o', out], {
      closeStdoutAfterLines: 1,
      stderrToStdout: true,
    });
    assert.match(r.stdout, /^spyglass: wrote collapsed to /);
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(out, 'utf8'), /caller/);
    const status = readFileSync(`/proc/${target.pid}/status`, 'utf8');
    assert.match(status, /^TracerPid:\s+0$/m, 'detached');
    assert.doesNotMatch(status, /^State:\s+[tT]/m, 'not stopped');
    const before = target.stdout().length;
    await target.waitFor(/^HANDLED/, 5000);
    await new Promise((res) => setTimeout(res, 600));
    assert.ok(target.stdout().length > before, 'the target keeps running');
  });

  test('demo | head -3: the demo ends at once and stops its service; top refuses a pipe in one line', async () => {
    const r = await head(['demo'], 3, { timeoutMs: 60000 });
    quiet(r, 'demo');
    // its steps print to stdout: the first write after the reader left skipped the rest
    assert.doesNotMatch(r.stderr, /call\(s\) shown/, 'no watch ran');
    const started = /\(pid (\d+)\)/.exec(r.stdout);
    if (started) {
      const svc = Number(started[1]);
      for (let waited = 0; waited < 5000 && existsSync(`/proc/${svc}`); waited += 50) await new Promise((res) => setTimeout(res, 50));
      assert.ok(
        !existsSync(`/proc/${svc}`) || /^State:\s+Z/m.test(readFileSync(`/proc/${svc}/status`, 'utf8')),
        'the sample service is gone',
      );
    }
    const top = await head(['top', String(process.pid)]);
    assert.equal(top.code, 1, top.stderr);
    assert.match(top.stderr, /^spyglass: top needs a terminal\n {2}hint: /);
  });
});
