// Attach on every installed interpreter: the four cases of the issue within one second
// each (CPU-bound main thread, main blocked in Event().wait() while threads run, main in
// time.sleep, main in socket.accept), each target still doing exactly what it did before;
// a value only the target knows read through the agent, with the target's own output
// unchanged; and a C call that holds the GIL for ever reported after a bounded wait.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { attach, type AttachedSession } from '../../src/attach/attach.js';
import { UserError } from '../../src/errors.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget, type Target } from '../helpers/targets.js';

const CASES: Array<{ script: string; args: string[]; how: string; after: (t: Target, readyAt: number) => Promise<void> }> = [
  {
    script: 'attach_cpu.py',
    args: [],
    how: 'pending',
    // still spinning: a new tick after the attach
    after: async (t) => {
      const ticks = (t.stdout().match(/^TICK/gm) ?? []).length;
      await t.waitFor(new RegExp(`^TICK ${ticks + 1}$`), 10000);
    },
  },
  {
    script: 'attach_event.py',
    args: ['3'],
    how: 'direct',
    // the interrupted wait resumed and ended on time, not early, not late
    after: async (t) => {
      const slept = Number((await t.waitFor(/^WOKE/, 10000)).split(' ')[1]);
      assert.ok(slept >= 2.95 && slept < 4, `Event().wait(3) lasted ${slept} s`);
    },
  },
  {
    script: 'attach_sleep.py',
    args: ['3'],
    how: 'direct',
    after: async (t) => {
      const slept = Number((await t.waitFor(/^WOKE/, 10000)).split(' ')[1]);
      assert.ok(slept >= 2.95 && slept < 4, `time.sleep(3) lasted ${slept} s`);
    },
  },
  {
    script: 'attach_accept.py',
    args: [],
    how: 'direct',
    // the interrupted accept() still accepts
    after: async (t) => {
      const port = Number(t.stdout().split('\n')[0].split(' ')[1]);
      const c = connect(port, '127.0.0.1', () => c.end('hello'));
      c.on('error', () => {});
      assert.equal(await t.waitFor(/^ACCEPTED/, 5000), 'ACCEPTED hello');
    },
  },
];

async function withSession<T>(pid: number, fn: (s: AttachedSession) => Promise<T>): Promise<T> {
  const s = await attach(pid, { timeoutMs: 5000 });
  try {
    return await fn(s);
  } finally {
    await s.detach();
  }
}

for (const py of discoverPythons()) {
  describe(`attach ${py.label}`, () => {
    for (const c of CASES) {
      test(`${c.script}: attached within 1 s, the target carries on unchanged`, async (t) => {
        const target = await startTarget(py, c.script, c.args);
        t.after(() => target.stop());
        const readyAt = Date.now();
        const started = Date.now();
        await withSession(target.pid, async (s) => {
          const ms = Date.now() - started;
          assert.ok(ms < 1000, `attach took ${ms} ms`);
          assert.equal(s.how, c.how);
          // the agent runs in the target: the main thread it reports is the target's
          const hello = await s.agent.call('hello', { protocol: 1 });
          assert.equal((hello as { pid: number }).pid, target.pid);
        });
        await c.after(target, readyAt);
        assert.equal(target.stderr(), '', 'nothing printed into the target\'s stderr');
      });
    }

    test('a value only the target knows; then it finishes exactly like an untouched run', async (t) => {
      const untouched = await startTarget(py, 'attach_work.py', ['30']);
      const touched = await startTarget(py, 'attach_work.py', ['30']);
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

    test('attaching twice reuses the agent; a second client can attach while one is connected', async (t) => {
      const target = await startTarget(py, 'attach_sleep.py');
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
        assert.equal(node.repr, '3600.0');
      } finally {
        await first.detach();
      }
    });
  });
}

// one interpreter is enough for the bounded wait: the decision is the same on all
const stuckPython = discoverPythons().find((p) => p.minor === '3.12') ?? discoverPythons()[0];
test(`a C call holding the GIL: attach gives up after a bounded wait and leaves the target as it was (${stuckPython?.label})`, async (t) => {
  const target = await startTarget(stuckPython, 'attach_gil_stuck.py', ['4']);
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
