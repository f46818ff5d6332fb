// Attach on every installed interpreter: the four cases of the issue (CPU-bound main
// thread, main blocked in Event().wait() while threads run, main in time.sleep, main in
// socket.accept), each attached at once (latency is measured by bench/attach.ts) and each
// target still doing exactly what it did before; an interrupted sleep not lengthened by
// the borrowed call; a pending call that never runs followed by a direct one; 50
// attach/detach cycles on a busy target without leaks; a value only the target knows read
// through the agent with the target's own output unchanged; reuse and a second client; a
// C call that holds the GIL reported after a bounded wait; spyglass ended (SIGTERM) or
// killed (SIGKILL, at random moments too) while it borrows the main thread, which lives
// on; a target that is our own child; and bad input for `spyglass PID` (a stopped target
// too), one clear line each.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { attach, type AttachedSession } from '../../src/attach/attach.js';
import { UserError } from '../../src/errors.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget, type Target } from '../helpers/targets.js';
import { CLI_MAIN, runCli, type CliRun } from '../helpers/cli.js';
import { processResources } from '../helpers/agent-target.js';
import { injectPython } from '../../src/attach/inject.js';
import { locatePython } from '../../src/reader/locate.js';
import { threadState, tracerOf } from '../../src/proc/process.js';

const CASES: Array<{ script: string; args: string[]; how: string[]; after: (t: Target, readyAt: number) => Promise<void> }> = [
  {
    script: 'attach_cpu.py',
    args: [],
    // direct when it is caught inside the write() of its TICK line, which drops the GIL
    how: ['pending', 'direct'],
    // still spinning: a new tick after the attach
    after: async (t) => {
      const ticks = (t.stdout().match(/^TICK/gm) ?? []).length;
      await t.waitFor(new RegExp(`^TICK ${ticks + 1}$`), 10000);
    },
  },
  {
    script: 'attach_event.py',
    // long enough that a slow attach on a loaded machine still ends before the wait does
    args: ['6'],
    // pending when the main thread is caught before it blocks (waiting for the GIL the two
    // busy threads pass around): it then runs Python and the call with it
    how: ['direct', 'pending'],
    // the interrupted wait resumed and ended on time, not early, not late
    after: async (t) => {
      const slept = Number((await t.waitFor(/^WOKE/, 15000)).split(' ')[1]);
      assert.ok(slept >= 5.95 && slept < 7.5, `Event().wait(6) lasted ${slept} s`);
    },
  },
  {
    script: 'attach_sleep.py',
    // long enough that a slow attach on a loaded machine still ends before the sleep does
    args: ['6'],
    how: ['direct'],
    after: async (t) => {
      const slept = Number((await t.waitFor(/^WOKE/, 15000)).split(' ')[1]);
      assert.ok(slept >= 5.95 && slept < 7, `time.sleep(6) lasted ${slept} s`);
    },
  },
  {
    script: 'attach_accept.py',
    args: [],
    how: ['direct'],
    // the interrupted accept() still accepts
    after: async (t) => {
      const port = Number(t.stdout().split('\n')[0].split(' ')[1]);
      const c = connect(port, '127.0.0.1', () => c.end('hello'));
      c.on('error', () => {});
      assert.equal(await t.waitFor(/^ACCEPTED/, 5000), 'ACCEPTED hello');
    },
  },
];

/** Lets a target that printed READY reach the call it then blocks in. */
const settle = () => new Promise((r) => setTimeout(r, 300));

async function withSession<T>(pid: number, fn: (s: AttachedSession) => Promise<T>): Promise<T> {
  const s = await attach(pid, { timeoutMs: 5000 });
  try {
    return await fn(s);
  } finally {
    await s.detach();
  }
}

// two interpreters at a time: the file stays near two minutes without loading the machine so
// much that the timing bounds below get tight
describe('attach on every interpreter', { concurrency: 2 }, () => {
  for (const py of discoverPythons()) {
    describe(`attach ${py.label}`, () => {
      for (const c of CASES) {
        test(`${c.script}: attached at once, the target carries on unchanged`, async (t) => {
          const target = await startTarget(py, c.script, c.args, { notChild: true });
          t.after(() => target.stop());
          await settle();
          const readyAt = Date.now();
          const started = Date.now();
          await withSession(target.pid, async (s) => {
            const ms = Date.now() - started;
            // the 1 s is measured on a quiet machine by bench/attach.ts; this bound only
            // catches a strategy that waits for the target instead of running at once
            assert.ok(ms < 4000, `attach took ${ms} ms`);
            assert.ok(c.how.includes(s.how), `attached by ${s.how}`);
            // the agent runs in the target: the main thread it reports is the target's
            const hello = await s.agent.call('hello', { protocol: 1 });
            assert.equal((hello as { pid: number }).pid, target.pid);
          });
          await c.after(target, readyAt);
          assert.equal(target.stderr(), '', "nothing printed into the target's stderr");
        });
      }

      test('a pending call the main thread never reaches (it blocked first): a direct call follows; the late one is harmless', async (t) => {
        const target = await startTarget(py, 'attach_sleep.py', ['3'], { notChild: true });
        t.after(() => target.stop());
        await settle();
        // pending on a main thread already blocked stands for one queued just before it blocked
        const s = await attach(target.pid, { timeoutMs: 8000, strategy: 'pending' });
        try {
          assert.equal(s.how, 'direct');
          const node = (await s.agent.call('eval', { expr: 'seconds' })) as { repr: string };
          assert.equal(node.repr, '3.0');
          // the target had not imported threading: the agent's load did, on the right thread
          const main = (await s.agent.call('eval', {
            expr: "__import__('threading').main_thread().native_id == __import__('os').getpid()",
          })) as { repr: string };
          assert.equal(main.repr, 'True', 'threading takes the main thread for its main thread');
        } finally {
          await s.detach();
        }
        // the sleep ends on time; then the queued bootstrap runs at the next bytecode, finds
        // the agent and does nothing, and the program ends normally
        const slept = Number((await target.waitFor(/^WOKE/, 10000)).split(' ')[1]);
        assert.ok(slept >= 2.95 && slept < 4, `time.sleep(3) lasted ${slept} s`);
        for (const until = Date.now() + 10000; target.alive() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
        assert.equal(target.alive(), false, 'the program ended');
        assert.equal(target.proc.exitCode, 0);
        assert.equal(target.stderr(), '');
      });

      test('a long borrowed call does not lengthen the interrupted sleep', async (t) => {
        const target = await startTarget(py, 'attach_sleep.py', ['3'], { notChild: true });
        t.after(() => target.stop());
        const readyAt = Date.now();
        await settle();
        const located = locatePython(target.pid);
        let restoredAt = 0;
        try {
          // code that keeps the main thread for a while (at least 800 ms even on a quiet machine; unchanged, the sleep would end 0.8 s late)
          const r = await injectPython(located, 'import time\nt = time.monotonic()\nwhile time.monotonic() - t < 0.8: pass', {
            deadline: Date.now() + 8000,
            expiresAt: Date.now() + 8000,
            strategy: 'direct',
          });
          restoredAt = Date.now();
          assert.ok(r.stoppedMs >= 800, `borrowed ${r.stoppedMs} ms`);
        } finally {
          located.close();
        }
        // the sleep ends 3 s after it began, or when the thread is given back if that is later
        const due = Math.max(3, (restoredAt - readyAt) / 1000);
        const slept = Number((await target.waitFor(/^WOKE/, 10000)).split(' ')[1]);
        assert.ok(slept >= 2.95 && slept < due + 0.5, `time.sleep(3) lasted ${slept} s (due ${due.toFixed(2)} s)`);
        assert.equal(target.stderr(), '');
      });

      test('a value only the target knows; then it finishes exactly like an untouched run', async (t) => {
        const untouched = await startTarget(py, 'attach_work.py', ['30'], { notChild: true });
        const touched = await startTarget(py, 'attach_work.py', ['30'], { notChild: true });
        t.after(() => Promise.all([untouched.stop(), touched.stop()]).then(() => undefined));
        await touched.waitFor(/^step 5 /);
        const secret = await withSession(touched.pid, async (s) => {
          const node = (await s.agent.call('eval', { expr: 'SECRET' })) as { type: string; repr: string };
          assert.equal(node.type, 'str');
          return JSON.parse(node.repr.replace(/^'|'$/g, '"')) as string;
        });
        assert.match(secret, /^[0-9a-f]{32}$/);
        const [doneU, doneT] = await Promise.all([untouched.waitFor(/^DONE/, 20000), touched.waitFor(/^DONE/, 20000)]);
        assert.equal(doneT.split(' ')[2], secret, 'the secret read through the agent is the one the target prints at the end');
        const strip = (s: string) => s.replace(/^DONE (\d+) .*$/m, 'DONE $1');
        assert.equal(strip(touched.stdout()), strip(untouched.stdout()));
        assert.equal(doneT.split(' ')[1], doneU.split(' ')[1]);
        assert.equal(touched.stderr(), '');
      });

      test('50 attach/detach cycles on a busy multi-threaded target: no crash, no leaked thread or fd, same results', async (t) => {
        const target = await startTarget(py, 'attach_busy.py', [], { notChild: true });
        t.after(() => target.stop());
        const before = processResources(target.pid);
        const hows: string[] = [];
        for (let i = 0; i < 50; i++) {
          const s = await attach(target.pid, { timeoutMs: 10000 });
          hows.push(s.how);
          const node = (await s.agent.call('eval', { expr: 'len(threads)' })) as { repr: string };
          assert.equal(node.repr, '4');
          // every tenth cycle removes the agent, so the next attach injects it afresh
          if (i % 10 === 9) await s.agent.call('shutdown', {});
          await s.detach();
        }
        assert.equal(hows.filter((h) => h !== 'reused').length, 5, hows.join(' '));
        // the agent is gone (its threads end just after the answer): the target is back to
        // its own threads and files
        let after = processResources(target.pid);
        for (
          const until = Date.now() + 10000;
          after.threads !== before.threads && Date.now() < until;
          after = processResources(target.pid)
        ) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(after.threads, before.threads, 'threads');
        assert.deepEqual(after.fds.sort(), before.fds.sort(), 'file descriptors');
        process.kill(target.pid, 'SIGUSR1');
        for (let k = 0; k < 4; k++) await target.waitFor(new RegExp(`^RESULT ${k} `), 30000);
        // each worker's value is the one its number of rounds gives: nothing was disturbed
        for (const line of target
          .stdout()
          .split('\n')
          .filter((l) => l.startsWith('RESULT'))) {
          const [k, rounds, value] = line.split(' ').slice(1).map(Number);
          assert.ok(rounds > 0, line);
          let n = 0;
          for (let r = 0; r < rounds; r++) {
            for (let j = 0; j < 1000; j++) n = (n * 31 + j + k) % 1000003;
            // let the other interpreter's test, maybe in the middle of an injection, run too
            if (r % 2000 === 0) await new Promise((res) => setImmediate(res));
          }
          assert.equal(value, n, line);
        }
        assert.equal(target.stderr(), '');
      });

      test('attaching twice reuses the agent; a second client can attach while one is connected', async (t) => {
        const target = await startTarget(py, 'attach_sleep.py', [], { notChild: true });
        t.after(() => target.stop());
        const first = await attach(target.pid);
        try {
          assert.notEqual(first.how, 'reused');
          const second = await attach(target.pid);
          try {
            assert.equal(second.how, 'reused');
            const hello = (await second.agent.call('hello', { protocol: 1 })) as { clients: number };
            assert.ok(hello.clients >= 2, `the agent sees ${hello.clients} clients`);
          } finally {
            await second.detach();
          }
          // the first session still works after the second left
          const node = (await first.agent.call('eval', { expr: 'seconds' })) as { repr: string };
          assert.equal(node.repr, '3600');
        } finally {
          await first.detach();
        }
      });
    });
  }
});

test(`two first attaches at the same moment: both get the one agent (${discoverPythons().at(-1)?.label})`, async (t) => {
  const target = await startTarget(discoverPythons().at(-1)!, 'attach_sleep.py', [], { notChild: true });
  t.after(() => target.stop());
  const runs = await Promise.all([0, 1].map(() => runCli([String(target.pid), '--cmd', 'getglobal __main__ seconds'])));
  for (const r of runs) {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /3600/);
  }
});

// one interpreter is enough for the bounded wait: the decision is the same on all
const stuckPython = discoverPythons().find((p) => p.minor === '3.12') ?? discoverPythons()[0];
test(`a C call holding the GIL: attach gives up after a bounded wait and leaves the target as it was (${stuckPython?.label})`, async (t) => {
  const target = await startTarget(stuckPython, 'attach_gil_stuck.py', ['4'], { notChild: true });
  t.after(() => target.stop());
  const started = Date.now();
  await assert.rejects(attach(target.pid, { timeoutMs: 1500 }), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match((e as Error).message, /did not run the attach code within 1\.5 s; it was left as it was/);
    assert.match((e as UserError).hint ?? '', /C call may be holding the GIL/);
    return true;
  });
  const waited = Date.now() - started;
  assert.ok(waited >= 1400 && waited < 3000, `gave up after ${waited} ms`);
  // the C call returns and the program goes on normally; the late pending call does nothing
  await target.waitFor(/^AFTER$/, 10000);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(target.stderr(), '');
});

/** `spyglass PID --cmd stack` started as a user starts it, and how it ended (its signal or exit code) */
function spawnAttach(pid: number): { cli: ChildProcess; ended: Promise<string> } {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const cli = spawn(process.execPath, [CLI_MAIN, String(pid), '--cmd', 'stack'], { env, stdio: 'ignore' });
  return { cli, ended: new Promise<string>((res) => cli.on('exit', (code, sig) => res(sig ?? String(code)))) };
}

/** gil_hog.py once its hog holds the GIL: a direct attach's PyGILState_Ensure waits 6 s in the borrowed main thread */
async function hogTarget(t: TestContext): Promise<Target> {
  const target = await startTarget(stuckPython, 'gil_hog.py', ['6', '9'], { notChild: true });
  t.after(() => target.stop());
  await target.waitFor(/^HOG START$/);
  return target;
}

// SIGTERM (Ctrl-C alike) while the borrowed thread waits seconds inside a call: spyglass
// lets it go at once, to finish the call and put itself back, and ends by the signal
test(`SIGTERM to spyglass while the main thread runs an injected call (${stuckPython?.label})`, async (t) => {
  const target = await hogTarget(t);
  const { cli, ended } = spawnAttach(target.pid);
  // once the main thread is borrowed (traced), well before the hog lets it have the GIL
  for (const until = Date.now() + 5000; tracerOf(target.pid) === 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
  assert.notEqual(tracerOf(target.pid), 0, 'the attach did not start in time');
  cli.kill('SIGTERM');
  assert.equal(await ended, 'SIGTERM');
  assert.doesNotMatch(target.stdout(), /HOG DONE/, 'spyglass waited for the call to return');
  assert.equal(tracerOf(target.pid), 0);
  await target.waitFor(/^HOG DONE$/, 30000);
  await target.waitFor(/^AFTER$/, 30000);
  assert.ok(target.alive(), `the target died (${target.stderr()})`);
  assert.equal(tracerOf(target.pid), 0);
});

// A borrowed call still waiting when the attach's time is up (the hog holds the GIL for
// 9 s; --attach-timeout 1, then 5 s of grace): spyglass says so and exits, the thread
// finishes the call later and puts itself back
test(`an injected call that outlasts the attach: reported, and the thread left to put itself back (${stuckPython?.label})`, async (t) => {
  const target = await startTarget(stuckPython, 'gil_hog.py', ['9', '12'], { notChild: true });
  t.after(() => target.stop());
  await target.waitFor(/^HOG START$/);
  const r = await runCli([String(target.pid), '--attach-timeout', '1', '--cmd', 'stack'], { timeoutMs: 20000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /an injected call has not returned after 5 s; its main thread finishes it and puts itself back/);
  assert.doesNotMatch(target.stdout(), /HOG DONE/, 'spyglass waited for the call to return');
  assert.equal(tracerOf(target.pid), 0);
  await target.waitFor(/^HOG DONE$/, 30000);
  await target.waitFor(/^AFTER$/, 30000);
  assert.equal(target.stderr(), '');
});

// SIGKILL cannot be held: spyglass killed while the borrowed main thread is inside
// PyGILState_Ensure (waiting seconds for the hog's GIL) leaves that thread untraced in the
// middle of the injected code. It must finish the code, put itself back (self-restore.ts)
// and sleep to its end as if nothing happened; it used to die of SIGTRAP.
test(`SIGKILL of spyglass while the main thread runs an injected call (${stuckPython?.label})`, async (t) => {
  const target = await hogTarget(t);
  const { cli, ended } = spawnAttach(target.pid);
  t.after(() => cli.kill('SIGKILL'));
  // traced and not stopped (state S, not t) on three polls in a row: inside the call
  let inCall = 0;
  for (const until = Date.now() + 5000; inCall < 3 && Date.now() < until; ) {
    inCall = tracerOf(target.pid) !== 0 && threadState(target.pid, target.pid) === 'S' ? inCall + 1 : 0;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(inCall, 3, 'the injected call did not start in time');
  cli.kill('SIGKILL');
  assert.equal(await ended, 'SIGKILL');
  assert.equal(tracerOf(target.pid), 0);
  await target.waitFor(/^HOG DONE$/, 30000);
  const started = Date.now();
  await target.waitFor(/^AFTER$/, 30000);
  assert.equal(target.stderr(), '');
  // the sleep (9 s from READY) was neither cut short nor lengthened by much
  assert.ok(Date.now() - started < 6000, 'the main thread slept on for too long');
});

// The windows between steps: spyglass killed at a random moment of a first attach (the
// thread stopped with redirected registers, in an injected call, or being put back), on
// a target caught running Python (pending) and one caught asleep (direct). Each must live
// on and carry on: progress after the kill, no tracer left.
// (a pending call is queued within a few milliseconds of the stop; a direct one runs the
// bootstrap for tens of milliseconds)
for (const [script, args, opts, maxDelayMs] of [
  ['attach_cpu.py', [], { progress: /^TICK/ }, 4],
  ['attach_sleep.py', ['1000'], { heartbeat: true }, 30],
] as const) {
  test(`SIGKILL of spyglass at random moments of an attach: ${script} lives on (${stuckPython?.label})`, async () => {
    let killedTraced = 0;
    for (let round = 0; round < 8; round++) {
      const target = await startTarget(stuckPython, script, [...args], { notChild: true, ...opts });
      try {
        const { cli, ended } = spawnAttach(target.pid);
        for (const until = Date.now() + 10000; tracerOf(target.pid) === 0 && Date.now() < until; )
          await new Promise((r) => setImmediate(r));
        // a busy wait: a timer's granularity would skip the shortest windows
        for (const until = performance.now() + Math.random() * maxDelayMs; performance.now() < until; );
        if (tracerOf(target.pid) !== 0) killedTraced++;
        cli.kill('SIGKILL');
        await ended;
        assert.equal(tracerOf(target.pid), 0);
      } finally {
        // alive and progressing, or this fails
        await target.stop();
      }
    }
    assert.ok(killedTraced >= 4, `only ${killedTraced} of 8 kills landed while the target was traced`);
  });
}

// Node reaps its own children with waitpid, which also takes their ptrace stops: the
// injection must still see each stop (ptrace.ts reads it from /proc and the siginfo)
test(`a target that is this test process's own child (${stuckPython?.label})`, async (t) => {
  const target = await startTarget(stuckPython, 'attach_sleep.py', ['30']);
  t.after(() => target.stop());
  const s = await attach(target.pid, { timeoutMs: 10000 });
  try {
    assert.equal(s.how, 'direct');
    const node = (await s.agent.call('eval', { expr: 'seconds' })) as { repr: string };
    assert.equal(node.repr, '30.0');
  } finally {
    await s.detach();
  }
  // still sleeping, untouched: its scheduler state is S, not t (stopped) and not gone
  const state = readFileSync(`/proc/${target.pid}/stat`, 'utf8').split(') ')[1][0];
  assert.equal(state, 'S');
});

// `spyglass PID` / `spyglass attach PID` with bad input: one line saying what is wrong (plus
// the hint line), exit code 1 or 2, never a stack trace
describe(`attach: bad input gets one clear line (${stuckPython?.label})`, { concurrency: true }, () => {
  const expectOneLine = (r: CliRun, code: number, message: RegExp) => {
    assert.equal(r.code, code, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[0], message);
    assert.ok(lines.length <= 2 && (lines.length === 1 || /^ {2}hint: /.test(lines[1])), r.stderr);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  };

  test('not a pid', async () => {
    expectOneLine(await runCli(['attach', 'abc']), 2, /^spyglass: not a process id: 'abc'$/);
    expectOneLine(await runCli(['attach', '-5']), 2, /not a process id|unknown option/);
  });

  test('a pid nobody has', async () => {
    expectOneLine(await runCli(['4194304']), 1, /^spyglass: process 4194304 does not exist/);
  });

  test('a process that is not Python', async (t) => {
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    t.after(() => sleeper.kill('SIGKILL'));
    expectOneLine(
      await runCli([String(sleeper.pid), '--cmd', 'stack']),
      1,
      new RegExp(`^spyglass: process ${sleeper.pid} \\(sleep 60\\) is not a CPython process`),
    );
  });

  test('a process that exits while spyglass attaches', async (t) => {
    const target = await startTarget(stuckPython, 'attach_exits.py', ['60'], { notChild: true });
    t.after(() => target.stop());
    const r = await runCli([String(target.pid), '--cmd', 'stack', '--attach-timeout', '30']);
    expectOneLine(r, 1, new RegExp(`^spyglass: process ${target.pid} exited while spyglass was attaching`));
  });

  test('a stopped process (SIGSTOP): said at once, and it is left stopped and untouched', async (t) => {
    const target = await startTarget(stuckPython, 'attach_sleep.py', ['60'], { notChild: true });
    t.after(async () => {
      process.kill(target.pid, 'SIGCONT');
      await target.stop();
    });
    process.kill(target.pid, 'SIGSTOP');
    const state = () => readFileSync(`/proc/${target.pid}/stat`, 'utf8').split(') ')[1][0];
    while (state() !== 'T') await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    // it once waited the whole attach timeout, then blamed a C call holding the GIL
    const r = await runCli([String(target.pid), '--cmd', 'stack', '--attach-timeout', '30']);
    expectOneLine(r, 1, new RegExp(`^spyglass: process ${target.pid} is stopped \\(SIGSTOP or Ctrl-Z\\)`));
    assert.match(r.stderr, new RegExp(`hint: continue it \\(kill -CONT ${target.pid}`));
    assert.ok(Date.now() - started < 20000, `took ${Date.now() - started} ms`);
    assert.equal(state(), 'T');
    assert.equal(/^TracerPid:\s+(\d+)/m.exec(readFileSync(`/proc/${target.pid}/status`, 'utf8'))?.[1], '0');
  });

  test('permission denied (run as nobody)', async (t) => {
    const target = await startTarget(stuckPython, 'attach_sleep.py', ['60'], { notChild: true });
    t.after(() => target.stop());
    const r = await runCli([String(target.pid), '--cmd', 'stack'], { uid: 65534 });
    expectOneLine(r, 1, new RegExp(`^spyglass: permission denied: .*process ${target.pid}`));
    assert.match(r.stderr, /ptrace_scope|CAP_SYS_PTRACE/);
  });
});
