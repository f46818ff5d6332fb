// Without --idle the sampler drops threads the kernel reports not running, so the
// source leaves their stacks unread (SampleOptions.idle): such a thread comes back with
// no frames, and is read in full, as one consistent stack, whenever it runs again; with
// --idle every stack is read. test/targets/idle_wakes.py: a main thread asleep throughout,
// a "waker" thread that sleeps 30 ms and then works 20 ms, again and again.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';
import { openPythonSource } from '../../src/sampler/source.js';
import type { ThreadSample } from '../../src/sampler/types.js';

/** Generous: a loaded machine can leave the target without a CPU for seconds. */
const WAIT_MS = 60000;
/** samples of each kind (the waker read while running, the waker left unread) to see */
const WANTED = 20;

const names = (t: ThreadSample) => t.frames.map((f) => f.name);

describe('an idle thread is not walked, and is read right when it wakes', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    test(py.label, async (t) => {
      const target = await startTarget(py, 'idle_wakes.py');
      t.after(() => target.stop());
      const source = await openPythonSource(target.pid);
      t.after(() => source.close());

      // --idle: every thread's stack, the idle main thread's included
      let all: ThreadSample[] = [];
      for (const until = Date.now() + WAIT_MS; Date.now() < until; await sleep(5)) {
        all = source.sample({ idle: true });
        if (all.length === 2 && all.every((s) => s.frames.length > 0 && s.torn === undefined)) break;
      }
      const mainAll = all.find((s) => s.nativeTid === target.pid);
      assert.ok(mainAll, `the main thread is sampled: ${JSON.stringify(all)}`);
      assert.equal(mainAll.name, 'MainThread');
      assert.deepEqual(names(mainAll).slice(-2), ['main', '<module>'], 'with --idle the sleeping main thread is read');
      assert.equal(mainAll.active, false);

      let read = 0;
      let unread = 0;
      let working = 0;
      let torn = 0;
      for (const until = Date.now() + WAIT_MS; Date.now() < until && (read < WANTED || unread < WANTED || working === 0); await sleep(3)) {
        const threads = source.sample({ idle: false });
        assert.equal(threads.length, 2, 'both threads are listed, read or not');
        const main = threads.find((s) => s.nativeTid === target.pid)!;
        const waker = threads.find((s) => s !== main)!;
        // the main thread sleeps throughout: never read (it may be seen running for an instant as it goes to sleep)
        if (!main.active) assert.deepEqual(main.frames, [], 'an idle thread comes back with no frames');
        if (!waker.active && waker.frames.length === 0) {
          unread++;
          continue;
        }
        if (waker.torn !== undefined) {
          torn++;
          continue;
        }
        if (!waker.active) continue; // running in the kernel's eyes but in its sleep: its stack was read
        read++;
        const stack = names(waker);
        // one whole stack: from the thread's first frame (threading's bootstrap) up to the waker's loop
        assert.match(stack.at(-1) ?? '', /^(Thread\.)?_bootstrap$/, `the waker's stack reaches its first frame: ${stack.join(' < ')}`);
        assert.ok(stack.includes('waker'), stack.join(' < '));
        assert.equal(waker.name, 'waker');
        if (stack[0] === 'work_after_wake') working++;
      }
      assert.ok(read >= WANTED && unread >= WANTED, `read while running ${read}, left unread while idle ${unread}`);
      assert.ok(working > 0, 'the waker was caught in work_after_wake');
      // a thread walked again after samples that left it unread keeps what the reader learned of it (its first frame)
      assert.ok(torn <= read / 10, `${torn} torn against ${read} read`);
    });
  }
});
