// monitor against test/targets/observe_app.py on every interpreter: a burst of known calls
// (tally: 40 calls, 10 raise, 22 take 1 ms and 8 take 50 ms) gives known counts, failure
// rate and cost statistics; -c/-n give that many cycles; a method called by the target
// itself (risky fails on every third call) gives its failure rate per cycle.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { monitorCommand } from '../../src/commands/monitor.js';
import { assertRestored, describeObserved, evalRepr, events, runCommand, waitUntil, type Observed } from '../helpers/observe.js';

const monitor = (o: Observed, line: string, opts = {}) => runCommand(monitorCommand, o, line, opts);

describeObserved('monitor', (o) => {
  test('known calls: total, success, failure, rate, avg/min/max/p50/p99', async () => {
    const running = monitor(o, 'monitor __main__ tally -c 6 -n 1');
    // the cycle starts when the hook is in; the burst (~0.45 s) then falls inside it
    await waitUntil(o, 'tally.__code__ is not ORIGINAL_CODE[11]');
    assert.equal(await evalRepr(o, 'run_tally(40)'), '10');
    const out = await running;
    const [cycle] = events(out, 'cycle');
    assert.deepEqual([cycle.calls, cycle.success, cycle.failure, cycle.failure_rate], [40, 30, 10, 0.25]);
    assert.ok(cycle.min_ms < 1, `min ${cycle.min_ms}: a KeyError raised at once`);
    assert.ok(cycle.max_ms >= 50, `max ${cycle.max_ms}`);
    assert.ok(cycle.p50_ms >= 1 && cycle.p50_ms < 50, `p50 ${cycle.p50_ms}: the 20th of 40 is a 1 ms call`);
    assert.equal(cycle.p99_ms, cycle.max_ms); // nearest rank 40 of 40
    assert.ok(cycle.avg_ms >= (22 * 1 + 8 * 50) / 40 && cycle.avg_ms <= cycle.max_ms, `avg ${cycle.avg_ms}`);
    assert.equal(events(out, 'end')[0].cycles, 1);
    const text = out.lines.join('\n');
    assert.match(text, /^TIME +TOTAL +SUCCESS +FAIL +FAIL-RATE +AVG\(ms\) +MIN\(ms\) +MAX\(ms\) +P50\(ms\) +P99\(ms\)$/m);
    assert.match(text, /^\d\d:\d\d:\d\d\.\d{3} +40 +30 +10 +25\.00% +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+$/m);
    await assertRestored(o);
  });

  test('-c/-n: that many cycles; a cycle without calls has no cost figures', async () => {
    const out = await monitor(o, 'monitor __main__ tally -c 0.3 -n 3');
    const cycles = events(out, 'cycle');
    assert.equal(cycles.length, 3);
    for (const c of cycles) {
      assert.deepEqual([c.calls, c.failure, c.failure_rate, c.avg_ms, c.p99_ms, c.cycle_s], [0, 0, 0, null, null, 0.3]);
    }
    assert.equal(cycles.length, out.lines.filter((l) => /^\d\d:\d\d:\d\d\.\d{3} +0 +0 +0 +0\.00% +- +- +- +- +-$/.test(l)).length);
    assert.equal(events(out, 'end')[0].reason, 'limit');
    await assertRestored(o);
  });

  test('a method the target calls: every third call of risky fails', async () => {
    const cycles = events(await monitor(o, 'monitor __main__ risky -c 1 -n 2'), 'cycle');
    assert.equal(cycles.length, 2);
    const calls = cycles.reduce((s, c) => s + c.calls, 0);
    const failures = cycles.reduce((s, c) => s + c.failure, 0);
    assert.ok(calls >= 3, `calls ${calls}`);
    assert.ok(Math.abs(failures - calls / 3) <= 2, `${failures} of ${calls} failed`);
    for (const c of cycles) assert.equal(c.success + c.failure, c.calls);
    await assertRestored(o);
  });
});
