// ThreadStates: scheduler states through stat files kept open, re-read on every call,
// and let go when a thread is no longer asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { listThreads } from '../../src/proc/process.js';
import { ThreadStates } from '../../src/sampler/thread-states.js';

const openFds = () => readdirSync('/proc/self/fd').length;

test('ThreadStates: running and sleeping threads, gone threads left out, files closed', async (t) => {
  const states = new ThreadStates(process.pid);
  t.after(() => states.close());
  const before = new Set(listThreads(process.pid));
  // a worker that sleeps (blocked in Atomics.wait) until told to end; it says when its
  // start-up is over (cell[1]): while starting it sleeps now and then too (seen: found
  // sleeping, then running at the next read), so it is looked for only after that
  const cell = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker('const { workerData: c } = require("node:worker_threads"); Atomics.store(c, 1, 1); Atomics.wait(c, 0, 0);', {
    eval: true,
    workerData: cell,
  });
  t.after(() => worker.terminate());
  let sleeper: number | undefined;
  for (let i = 0; i < 200 && sleeper === undefined; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if (Atomics.load(cell, 1) !== 1) continue;
    const fresh = listThreads(process.pid).filter((tid) => !before.has(tid));
    // the worker's thread is the new one that sleeps
    sleeper = fresh.find((tid) => states.read([tid]).get(tid) === 'S');
  }
  assert.ok(sleeper !== undefined, 'found the sleeping worker thread');
  states.read([process.pid, sleeper]);
  const fds = openFds();
  // this thread is running while it reads its own state; the same file, re-read, is fresh
  for (let i = 0; i < 3; i++) {
    const s = states.read([process.pid, sleeper]);
    assert.equal(s.get(process.pid), 'R');
    assert.equal(s.get(sleeper), 'S');
  }
  assert.equal(openFds(), fds, 'the files stay open between reads, none added');
  assert.deepEqual([...states.read([process.pid, 999999999]).keys()], [process.pid], 'a thread that does not exist is left out');
  assert.equal(openFds(), fds - 1, "the sleeping thread's file is closed once it is not asked for");
  Atomics.store(cell, 0, 1);
  Atomics.notify(cell, 0);
});
