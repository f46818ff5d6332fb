// A stuck agent must not hold the client: on every interpreter, a target whose main thread
// holds the GIL for ever once a hook is on it (test/targets/agent_stuck.py). The one-shot's
// --timeout, Ctrl-C and the attach timeout each end the client within their bound, with
// one line saying the agent has not answered and where its thread is, read from outside,
// and the thread holding the GIL as the hint; so does Ctrl-C in the interactive shell on
// a terminal (one interpreter: the shell's path is the same on all).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';
import { CLI_MAIN, runCli, type CliRun } from '../helpers/cli.js';
import { startTmux } from '../helpers/tmux.js';

/** src/shell/bounded.ts's STOP_GRACE_MS, plus starting node and attaching on a loaded machine */
const GRACE_S = 2;
const SLACK_S = 8;

function assertUnanswered(r: CliRun, pid: number, what: string): void {
  assert.equal(r.code, 1, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  // the error and its hint end stderr (notes such as "watching ..." may come before)
  const lines = r.stderr.trim().split('\n').slice(-2);
  assert.match(
    lines[0],
    new RegExp(
      `^spyglass: the agent in process ${pid} has not answered for \\d+\\.\\d s; its thread spyglass-[\\w-]+ is at \\S+ \\(\\w+\\.py:\\d+\\)`,
    ),
    r.stderr,
  );
  assert.match(
    lines[1],
    new RegExp(`hint: thread ${pid} "MainThread" holds the GIL at hold_the_gil \\(agent_stuck\\.py:\\d+\\)`),
    r.stderr,
  );
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('spyglass:')).length, 1, r.stderr);
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = Date.now();
  const v = await f();
  return [v, (Date.now() - t0) / 1000];
}

/** The CLI started in the background; `exited` resolves with its exit code and output. */
function startCli(args: string[]): { exited: Promise<CliRun>; kill(signal: NodeJS.Signals): void } {
  const cli = spawn(process.execPath, [CLI_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const safety = setTimeout(() => cli.kill('SIGKILL'), 90000);
  let stdout = '';
  let stderr = '';
  cli.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  cli.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<CliRun>((resolve) =>
    cli.on('close', (code) => {
      clearTimeout(safety);
      resolve({ code, stdout, stderr });
    }),
  );
  return { exited, kill: (signal) => cli.kill(signal) };
}

// attaching is not what is timed here (a loaded machine may take seconds): the bounds
// run from the moment the target holds the GIL, which is after the command started
describe('a stuck agent ends the client on time', { concurrency: 3 }, () => {
  for (const py of discoverPythons()) {
    test(`--timeout, then the attach timeout (${py.label})`, async () => {
      const t = await startTarget(py, 'agent_stuck.py');
      try {
        const cli = startCli([String(t.pid), '--cmd', 'watch __main__ tick -n 1000', '--timeout', '2', '--attach-timeout', '30']);
        await t.waitFor(/^HOLDING/, 60000);
        const [watched, s1] = await timed(() => cli.exited);
        assertUnanswered(watched, t.pid, 'watch --timeout 2');
        assert.ok(s1 < 2 + GRACE_S + SLACK_S, `watch --timeout 2 ended ${s1} s after the target got stuck`);
        assert.ok(t.alive());
        // a later attach finds the socket, but its handshake is never answered
        const [again, s2] = await timed(() => runCli([String(t.pid), '--cmd', 'stack', '--attach-timeout', '2'], { timeoutMs: 60000 }));
        assertUnanswered(again, t.pid, 'stack --attach-timeout 2');
        assert.ok(s2 < 2 + SLACK_S, `the attach ended after ${s2} s`);
      } finally {
        await t.stop();
      }
    });

    test(`Ctrl-C (${py.label})`, async () => {
      const t = await startTarget(py, 'agent_stuck.py');
      const cli = startCli([String(t.pid), '--cmd', 'watch __main__ tick -n 1000', '--attach-timeout', '30']);
      try {
        await t.waitFor(/^HOLDING/, 60000);
        await new Promise((r) => setTimeout(r, 200)); // into the C call
        const [r, s] = await timed(async () => {
          cli.kill('SIGINT');
          return cli.exited;
        });
        assertUnanswered(r, t.pid, 'Ctrl-C');
        assert.ok(s < GRACE_S + SLACK_S, `Ctrl-C ended the client after ${s} s`);
      } finally {
        cli.kill('SIGKILL');
        await t.stop();
      }
    });
  }
});

const last = discoverPythons().at(-1);
test(`the interactive shell: Ctrl-C on a command whose agent is stuck ends the shell (${last?.label})`, { skip: !last }, async (t) => {
  const target = await startTarget(last!, 'agent_stuck.py');
  const home = mkdtempSync(join(tmpdir(), 'spyglass-unanswered-'));
  const shell = await startTmux([process.execPath, CLI_MAIN, String(target.pid), '--attach-timeout', '30'], {
    env: { SPYGLASS_HISTORY: join(home, 'history'), NO_COLOR: '1' },
  });
  t.after(async () => {
    await shell.kill();
    await target.stop();
    rmSync(home, { recursive: true, force: true });
  });
  await shell.waitFor(new RegExp(`spyglass ${target.pid}>$`), { timeoutMs: 60000 });
  await shell.type('watch __main__ tick -n 1000');
  await shell.send('Enter');
  await target.waitFor(/^HOLDING/, 30000);
  await new Promise((r) => setTimeout(r, 200)); // into the C call
  const [code, s] = await timed(async () => {
    await shell.send('C-c');
    return shell.waitForExit((GRACE_S + SLACK_S) * 1000);
  });
  assert.equal(code, 1);
  assert.ok(s < GRACE_S + SLACK_S, `Ctrl-C ended the shell after ${s} s`);
  const screen = await shell.screen();
  assert.match(
    screen,
    new RegExp(`spyglass: the agent in process ${target.pid} has not answered for \\d+\\.\\d s; its thread spyglass-[\\w-]+ is at `),
  );
  assert.match(screen, /holds the GIL at hold_the_gil \(agent_stuck\.py:\d+\)/);
});
