// `record --subprocesses` on a process that is not Python (a bash script): the Python it
// starts one second after the recording began is profiled, under a root frame naming its
// pid, with the functions of its known 3:1 split; without --subprocesses the shell is
// refused as before. On every interpreter.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { parseCollapsed, samplesIn } from '../helpers/profiles.js';
import { discoverPythons } from '../helpers/pythons.js';
import { TARGETS_DIR } from '../helpers/targets.js';

const dir = mkdtempSync(join(tmpdir(), 'spyglass-shell-root-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** bash that sleeps 1 s, then runs profile_split.py in the background and waits for it; prints the Python's pid. */
function startShell(python: string): { pid: number; pythonPid: Promise<number>; stop(): void } {
  const script = `sleep 1; "$0" -u ${join(TARGETS_DIR, 'profile_split.py')} >/dev/null & echo "PY $!"; wait`;
  const p = spawn('bash', ['-c', script, python], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const pythonPid = new Promise<number>((resolve) =>
    p.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /PY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    }),
  );
  let py: number | undefined;
  void pythonPid.then((n) => (py = n));
  return {
    pid: p.pid!,
    pythonPid,
    stop() {
      for (const pid of [py, p.pid]) {
        try {
          if (pid) process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    },
  };
}

describe('record --subprocesses from a bash script', { concurrency: 2 }, () => {
  for (const py of discoverPythons()) {
    test(`${py.label}: the Python started later is profiled; without --subprocesses bash is refused`, async (t) => {
      const shell = startShell(py.path);
      t.after(() => shell.stop());
      const refused = await runCli(['record', '-p', String(shell.pid), '-d', '1', '-f', 'collapsed', '-o', join(dir, 'no.txt')]);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /is not a CPython process/);

      const out = join(dir, `${py.label}.txt`);
      const run = await runCli(['record', '-p', String(shell.pid), '--subprocesses', '-d', '6', '-f', 'collapsed', '-o', out], {
        timeoutMs: 120000,
      });
      assert.equal(run.code, 0, run.stderr);
      const pythonPid = await shell.pythonPid;
      const stacks = parseCollapsed(readFileSync(out, 'utf8'));
      assert.ok(stacks.length > 0, run.stderr);
      // every stack is under the Python's own root frame (the shell is never sampled)
      for (const [frames] of stacks) assert.match(frames[0], new RegExp(`^process ${pythonPid}: ".*profile_split\\.py`), frames.join(';'));
      const heavy = samplesIn(stacks, 'heavy');
      const light = samplesIn(stacks, 'light');
      assert.ok(heavy > 20 && light > 5, `heavy ${heavy}, light ${light}: ${run.stderr}`);
      assert.ok(heavy > light, `heavy ${heavy} light ${light}`);
    });
  }
});
