// Exit statuses and streams of every top-level command, as README "Exit status and
// streams" documents them: 0 success, 1 a failure the user can act on (one line and a
// hint on stderr, no stack trace), 2 bad usage, 130 after Ctrl-C; results on stdout,
// notes and progress on stderr, and with --json nothing but JSON on stdout (a failure as
// one `{"event": "error"}` line). These are the command line's own conventions, the same
// on every interpreter: checked against one. (demo's 0 and 130: ps-demo.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_MAIN, runCli, type CliRun } from '../helpers/cli.js';
import { waitUntilSampling } from '../helpers/profiles.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';
import { startTmux } from '../helpers/tmux.js';

const py = discoverPythons().find((p) => p.minor === '3.12') ?? discoverPythons()[0];

/** A pid no process has: one that just exited and was reaped. */
function deadPid(): number {
  return Number(spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim());
}

function succeeded(r: CliRun, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
}

/** exit `code`; stderr one line (plus a hint or commander's pointer to --help); nothing on stdout, or with --json only the error line */
function failed(r: CliRun, code: number, re: RegExp, json = false): void {
  assert.equal(r.code, code, `exit ${r.code}; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0], re, r.stderr);
  assert.ok(lines.length <= 2 && (lines.length === 1 || /^( {2}hint: |\(run with --help)/.test(lines[1])), r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  if (!json) {
    assert.equal(r.stdout, '', 'nothing on stdout');
    return;
  }
  const out = r.stdout.trimEnd().split('\n');
  assert.equal(out.length, 1, r.stdout);
  const e = JSON.parse(out[0]) as { event: string; exit_code: number; message: string };
  assert.deepEqual([e.event, e.exit_code], ['error', code]);
}

/** Runs the CLI and sends it SIGINT once `ready(pid)` resolves. */
function interrupted(args: string[], ready: (pid: number, stderr: () => string) => Promise<void>): Promise<CliRun> {
  let stderr = '';
  return runCli(args, {
    timeoutMs: 90000,
    onStderr: (soFar) => (stderr = soFar),
    onStart: (pid) => {
      const send = (sig: NodeJS.Signals) => () => {
        try {
          process.kill(pid, sig);
        } catch {
          // gone already
        }
      };
      void ready(pid, () => stderr).then(send('SIGINT'), send('SIGKILL'));
    },
  });
}

async function until(cond: () => boolean, timeoutMs = 60000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !cond(); await new Promise((r) => setTimeout(r, 50)))
    if (Date.now() > end) throw new Error('timed out');
}

test("ps, dump, attach --cmd (and demo's usage error): 0, 1, 2, 130; results on stdout, notes on stderr, only JSON with --json", async (t) => {
  const target = await startTarget(py, 'shell_app.py');
  t.after(() => target.stop());
  const pid = String(target.pid);
  const gone = String(deadPid());

  const ps = await runCli(['ps'], { timeoutMs: 60000 });
  succeeded(ps, 'ps');
  assert.match(ps.stdout, new RegExp(`^\\s*${pid} {2}${py.version.replace(/\./g, '\\.')} `, 'm'));
  assert.equal(ps.stderr, '');
  const psJson = await runCli(['ps', '--json'], { timeoutMs: 60000 });
  succeeded(psJson, 'ps --json');
  assert.ok((JSON.parse(psJson.stdout) as Array<{ pid: number }>).some((row) => row.pid === target.pid));
  failed(await runCli(['ps', '--frob']), 2, /^error: unknown option '--frob'$/);
  failed(await runCli(['ps', '--json', '--frob']), 2, /^error: unknown option '--frob'$/, true);
  failed(await runCli(['demo', '--frob']), 2, /^error: unknown option '--frob'$/);

  const dump = await runCli(['dump', pid]);
  succeeded(dump, 'dump');
  assert.match(dump.stdout, /^Thread \d+ "parked-1"/m);
  assert.equal(dump.stderr, '');
  const dumpJson = await runCli(['dump', pid, '--json']);
  succeeded(dumpJson, 'dump --json');
  assert.equal((JSON.parse(dumpJson.stdout) as { pid: number }).pid, target.pid);
  assert.equal(dumpJson.stderr, '');
  failed(await runCli(['dump', gone]), 1, new RegExp(`^spyglass: process ${gone} does not exist`));
  failed(await runCli(['dump', gone, '--json']), 1, new RegExp(`^spyglass: process ${gone} does not exist`), true);
  failed(await runCli(['dump', 'abc']), 2, /^spyglass: not a process id: 'abc'$/);

  // attach: a streaming command's records as JSON lines on stdout, its notes on stderr
  const watch = await runCli([pid, '--json', '--cmd', 'watch __main__ handle -n 2'], { timeoutMs: 60000 });
  succeeded(watch, 'watch --json');
  const events = watch.stdout
    .trimEnd()
    .split('\n')
    .map((l) => (JSON.parse(l) as { event: string }).event);
  assert.deepEqual(events, ['started', 'call', 'call', 'end']);
  assert.match(watch.stderr, /^watching __main__\.handle .*Ctrl-C to stop$/m);
  failed(await runCli([pid, '--cmd', 'watch no_such_module f']), 1, /^spyglass: module no_such_module is not imported in the target$/);
  failed(await runCli([pid, '--json', '--cmd', 'watch no_such_module f']), 1, /^spyglass: module no_such_module/, true);
  failed(await runCli([pid, '--cmd', 'frobnicate']), 2, /^spyglass: unknown command: frobnicate$/);
  failed(await runCli(['attach', gone]), 1, new RegExp(`^spyglass: .*${gone}`));
  // Ctrl-C: the command stops (its hook removed), exit 130
  const stopped = await interrupted([pid, '--cmd', 'watch __main__ never_called'], (_, stderr) =>
    until(() => /Ctrl-C to stop/.test(stderr())),
  );
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /0 call\(s\) shown \(stopped\); hook removed/);
  assert.equal(stopped.stdout, '');
});

test('record: the summary on stderr, nothing on stdout; 0, 1, 2, and 130 after Ctrl-C with the profile written', async (t) => {
  const target = await startTarget(py, 'shell_app.py');
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-exit-status-'));
  t.after(async () => {
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const pid = String(target.pid);
  const ok = await runCli(['record', '-p', pid, '-d', '0.5', '--idle', '-f', 'collapsed', '-o', join(dir, 'a.txt')], { timeoutMs: 60000 });
  succeeded(ok, 'record');
  assert.equal(ok.stdout, '');
  assert.match(ok.stderr, /^spyglass: wrote collapsed to .*a\.txt: \d+ samples/);
  failed(await runCli(['record', '-p', String(deadPid()), '-d', '1', '-o', join(dir, 'b.txt')]), 1, /^spyglass: process \d+ /);
  failed(await runCli(['record', '-d', '1']), 2, /^spyglass: nothing to record$/);
  failed(await runCli(['record', '-p', pid, '-r', 'fast']), 2, /^spyglass: --rate must be a number above 0 \(got 'fast'\)$/);
  const out = join(dir, 'c.txt');
  const stopped = await interrupted(['record', '-p', pid, '--idle', '-f', 'collapsed', '-o', out], async (p) => {
    await waitUntilSampling(p, target.pid);
    await new Promise((res) => setTimeout(res, 1000)); // some samples first, however loaded the machine
  });
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.equal(stopped.stdout, '');
  assert.match(stopped.stderr, /^spyglass: wrote collapsed to /);
  assert.match(readFileSync(out, 'utf8'), /park/);
});

test('top: 2 without a pid, 1 without a terminal; on a terminal q exits 0 and Ctrl-C 130', async (t) => {
  const target = await startTarget(py, 'shell_app.py');
  t.after(() => target.stop());
  failed(await runCli(['top']), 2, /^spyglass: no process given$/);
  failed(await runCli(['top', String(target.pid)]), 1, /^spyglass: top needs a terminal$/);
  for (const [key, status] of [
    ['q', 0],
    ['C-c', 130],
  ] as const) {
    const term = await startTmux([process.execPath, CLI_MAIN, 'top', String(target.pid)], { width: 120, height: 30 });
    t.after(() => term.kill());
    await term.waitFor(/spyglass top · pid/, { timeoutMs: 60000 });
    await term.send(key);
    assert.equal(await term.waitForExit(30000), status, key);
  }
});
