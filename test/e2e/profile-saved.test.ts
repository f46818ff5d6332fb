// A profile is never lost at the last step: when its file cannot be written at the end
// (the output directory removed while recording, a full disk), it is saved in a private
// temporary directory, the path is printed, and spyglass exits 1 (the file is not where
// it was asked). On every interpreter: `record` and the shell's `perf` (--json) whose
// directory is removed while they sample; once: `dump -f` and `stack -f` onto /dev/full
// (ENOSPC) and into a directory that does not exist.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCli, type CliRun } from '../helpers/cli.js';
import { parseCollapsed, samplesIn, waitUntilSampling } from '../helpers/profiles.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';

/** Sends a signal to a process that may have ended already. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone: nothing to stop
  }
}

/**
 * Runs the CLI; a second after it starts sampling the target (after printing `starting`
 * on stderr, when given: attaching reads the target's memory too), removes `dir`, then
 * sends Ctrl-C.
 */
function recordWhileRemoving(args: string[], target: number, dir: string, starting?: RegExp): Promise<CliRun> {
  let started = false;
  const removeThenStop = (pid: number) => {
    started = true;
    void waitUntilSampling(pid, target)
      // some samples in the profile (at 100 Hz, idle threads counted), however loaded the machine
      .then(() => new Promise((res) => setTimeout(res, 1000)))
      .then(
        () => {
          rmSync(dir, { recursive: true, force: true });
          signal(pid, 'SIGINT');
        },
        () => signal(pid, 'SIGKILL'),
      );
  };
  return runCli(args, {
    timeoutMs: 90000,
    onStart: (pid) => {
      if (!starting) removeThenStop(pid);
    },
    onStderr: (soFar, pid) => {
      if (!started && starting?.test(soFar)) removeThenStop(pid);
    },
  });
}

/** The fallback file named by the error's hint: in a new private directory, with the asked name. */
function savedInstead(stderr: string, asked: string, what: string): string {
  const m = new RegExp(`^spyglass: could not write ${asked}: (.*)\\n {2}hint: the ${what} is saved in (\\S+) instead$`, 'm').exec(stderr);
  assert.ok(m, stderr);
  const path = m[2];
  assert.equal(path.split('/').pop(), asked.split('/').pop(), 'the same file name');
  assert.equal(statSync(dirname(path)).mode & 0o777, 0o700, 'a directory private to the user');
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  return path;
}

describe('the output directory removed while recording', { concurrency: 3 }, () => {
  for (const py of discoverPythons()) {
    test(`${py.label}: record and perf save the profile elsewhere and say where, exit 1`, async (t) => {
      const target = await startTarget(py, 'shell_app.py');
      const dirs: string[] = [];
      t.after(async () => {
        await target.stop();
        for (const d of dirs) rmSync(dirname(d), { recursive: true, force: true });
      });

      const dir = mkdtempSync(join(tmpdir(), 'spyglass-saved-'));
      const asked = join(dir, 'cpu.txt');
      const run = await recordWhileRemoving(
        ['record', '--idle', '-p', String(target.pid), '-f', 'collapsed', '-o', asked],
        target.pid,
        dir,
      );
      assert.equal(run.code, 1, run.stderr);
      const saved = savedInstead(run.stderr, asked, 'profile');
      dirs.push(saved);
      assert.match(run.stderr, new RegExp(`^spyglass: wrote collapsed to ${saved}: (\\d+) samples`, 'm'));
      // every sample taken is in the file that was saved
      const samples = Number(/\((\d+) thread samples\)/.exec(run.stderr)?.[1]);
      const stacks = parseCollapsed(readFileSync(saved, 'utf8'));
      assert.equal(
        stacks.reduce((n, [, c]) => n + c, 0),
        samples,
      );
      assert.ok(samplesIn(stacks, 'main_loop') > 0 && samplesIn(stacks, 'park') > 0, run.stderr);

      const perfDir = mkdtempSync(join(tmpdir(), 'spyglass-saved-'));
      const perfAsked = join(perfDir, 'flame.svg');
      const perf = await recordWhileRemoving(
        [String(target.pid), '--json', '--cmd', `perf -f ${perfAsked}`],
        target.pid,
        perfDir,
        /^perf: sampling/m,
      );
      assert.equal(perf.code, 1, perf.stderr);
      const perfSaved = savedInstead(perf.stderr, perfAsked, 'flame graph');
      dirs.push(perfSaved);
      assert.match(readFileSync(perfSaved, 'utf8'), /^<\?xml|^<svg/);
      // --json: the perf record names where the file is, then the error line
      const [record, error] = perf.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual([record.event, record.path, (record.not_written as { path: string }).path], ['perf', perfSaved, perfAsked]);
      assert.deepEqual([error.event, error.exit_code], ['error', 1]);
      assert.ok(target.alive());
    });
  }
});

test('dump -f and stack -f: a full disk (/dev/full) or a missing directory, the stacks saved elsewhere', async (t) => {
  const py = discoverPythons().find((p) => p.minor === '3.12') ?? discoverPythons()[0];
  const target = await startTarget(py, 'shell_app.py');
  const saved: string[] = [];
  t.after(async () => {
    await target.stop();
    for (const s of saved) rmSync(dirname(s), { recursive: true, force: true });
  });
  const pid = String(target.pid);
  const full = await runCli(['dump', pid, '-f', '/dev/full']);
  assert.equal(full.code, 1, full.stderr);
  saved.push(savedInstead(full.stderr, '/dev/full', 'dump'));
  assert.match(full.stderr, /could not write \/dev\/full: ENOSPC/);
  assert.match(readFileSync(saved[0], 'utf8'), new RegExp(`^Process ${pid}: Python .*\\n[^]*Thread \\d+ "parked-1"`));

  const missing = join(tmpdir(), `spyglass-no-such-dir-${process.pid}`, 'stack.txt');
  const stack = await runCli([pid, '--cmd', `stack -f ${missing}`]);
  assert.equal(stack.code, 1, stack.stderr);
  saved.push(savedInstead(stack.stderr, missing, 'stack dump'));
  assert.match(stack.stderr, /ENOENT/);
  assert.match(readFileSync(saved[1], 'utf8'), /Traceback for thread \d+ "parked-2"/);
});
