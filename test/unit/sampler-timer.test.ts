// The sampler's clock: Poisson instants at the asked rate, skipped (and counted) when the
// sampler falls far behind, and sleeps that never end early and still let the event loop
// (signals, input, other timers) run while short gaps are waited out blocked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PoissonTimer, sleepUntil } from '../../src/sampler/timer.js';
import { nowMs } from '../../src/clock.js';

test('Poisson instants average the rate; a sampler far behind skips instants instead of bursting', () => {
  let now = 0;
  let seed = 1;
  // a fixed pseudo-random sequence: the test does not depend on Math.random
  const random = () => (seed = (seed * 48271) % 0x7fffffff) / 0x7fffffff;
  const timer = new PoissonTimer(100, () => now, random);
  let last = 0;
  for (let i = 0; i < 10000; i++) {
    last = timer.advance();
    now = last; // the sampler keeps up
  }
  assert.ok(Math.abs(last / 10000 - 10) < 0.5, `mean gap ${last / 10000} ms, 10 expected`);
  assert.equal(timer.behind, 0);
  now += 5000; // stalled 5 s
  const next = timer.advance();
  assert.ok(next >= now, 'no instant in the past after a stall');
  assert.ok(timer.behind >= 400 && timer.behind <= 600, `about 500 instants skipped, got ${timer.behind}`);
});

test('sleepUntil never returns before its deadline and lets the event loop run during short gaps', async () => {
  let served = 0;
  const interval = setInterval(() => served++, 5);
  try {
    const start = nowMs();
    while (nowMs() - start < 600) {
      const deadline = nowMs() + 2 + Math.random() * 3;
      await sleepUntil(deadline);
      assert.ok(nowMs() >= deadline, 'woke up before the deadline');
    }
  } finally {
    clearInterval(interval);
  }
  // served once per 50 ms slice at least: about 12 times in 600 ms; a loop that never
  // yielded would give 0 (the bound is loose for a loaded machine)
  assert.ok(served >= 3, `the event loop ran ${served} times in 600 ms of 2-5 ms sleeps`);
});
