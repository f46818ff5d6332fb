// GIL accounting from synthetic samples: midpoint episodes, the switch counter splitting a
// hold that sampling saw as one, waits, and threshold crossings/reports.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GilAccounting, type GilSample } from '../../src/gil/accounting.js';
import { decodeGil, futexRole, GIL_STRUCT_SIZE } from '../../src/reader/gil.js';
import { parseSyscallLine } from '../../src/gil/kernel-wait.js';

const A = 1n;
const B = 2n;
const none = new Set<bigint>();
const ms = (n: number) => BigInt(n) * 1_000_000n;
const sample = (t: number, holder: bigint, switches: number, waiting: bigint[] = []): GilSample => ({
  t: ms(t),
  holder,
  switches: BigInt(switches),
  waiting: new Set(waiting),
  dropping: none,
});

test('holds and waits become episodes bounded by the midpoints between samples', () => {
  const acc = new GilAccounting();
  // A holds 0..40 while B waits; B holds 50..90 while A waits
  for (let t = 0; t <= 40; t += 10) acc.add(sample(t, A, 0, [B]));
  for (let t = 50; t <= 90; t += 10) acc.add(sample(t, B, 1, [A]));
  const s = new Map(acc.snapshot().map((x) => [x.tstate, x]));
  assert.equal(s.get(A)!.holdAll, ms(45)); // 0 .. midpoint 45
  assert.equal(s.get(A)!.takecnt, 1);
  assert.equal(s.get(A)!.dropcnt, 1);
  assert.equal(s.get(B)!.holdAll, ms(45)); // 45 .. 90 (ongoing, counted to the last sample)
  assert.equal(s.get(B)!.takeAll, ms(45)); // waited 0 .. 45
  assert.equal(s.get(A)!.takeAll, ms(45)); // waits 45 .. 90, ongoing
  assert.equal(acc.switchesExact, 1n);
  assert.equal(acc.switchesSeen, 1);
});

test('the same holder with a moved switch counter is two holds', () => {
  const acc = new GilAccounting();
  acc.add(sample(0, A, 5));
  acc.add(sample(10, A, 7)); // B held it in between, unseen
  acc.add(sample(20, A, 7));
  const [a] = acc.snapshot();
  assert.equal(a.takecnt, 2);
  assert.equal(a.dropcnt, 1);
  assert.equal(acc.switchesExact, 2n);
  assert.equal(acc.switchesSeen, 0);
});

test('free time, and a wait that ends without the waiter being seen holding counts an unseen hold', () => {
  const acc = new GilAccounting();
  acc.add(sample(0, 0n, 0, [B]));
  acc.add(sample(10, 0n, 0, [B]));
  acc.add(sample(20, A, 0));
  const b = acc.snapshot().find((x) => x.tstate === B)!;
  assert.equal(b.takeAll, ms(15));
  assert.equal(b.takecnt, 1);
  assert.equal(acc.freeNs, ms(15));
});

test('thresholds: crossing while the hold goes on, report when it ends', () => {
  const acc = new GilAccounting({ holdThresholdNs: ms(10), takeThresholdNs: ms(10) });
  const crossed: string[] = [];
  const finished: string[] = [];
  for (const s of [sample(0, A, 0, [B]), sample(5, A, 0, [B]), sample(15, A, 0, [B]), sample(25, B, 1), sample(30, B, 1)]) {
    const ev = acc.add(s);
    crossed.push(...ev.crossed.map((c) => `${c.kind}:${c.tstate}@${s.t / 1_000_000n}`));
    finished.push(...ev.finished.map((f) => `${f.kind}:${f.tstate}:${f.durationNs / 1_000_000n}`));
  }
  assert.deepEqual(crossed, ['hold:1@15', 'take:2@15']);
  assert.deepEqual(finished, ['hold:1:20', 'take:2:20']);
});

test('GIL struct decoding and futex roles', () => {
  const buf = Buffer.alloc(GIL_STRUCT_SIZE);
  buf.writeBigUInt64LE(5000n, 0);
  buf.writeBigUInt64LE(0x1234n, 8);
  buf.writeInt32LE(1, 16);
  buf.writeBigUInt64LE(77n, 24);
  buf.writeUInt32LE(2 * 8 + 1, 32 + 36); // two waiters on cond (+ a flag bit)
  const g = decodeGil(buf);
  assert.deepEqual([g.holder, g.locked, g.switches, g.intervalUs, g.condWaiters, g.switchWaiters], [0x1234n, true, 77n, 5000n, 2, 0]);
  buf.writeInt32LE(0, 16);
  assert.equal(decodeGil(buf).holder, 0n);
  const base = 0x1000n;
  assert.equal(futexRole(base, base + 40n), 'take');
  assert.equal(futexRole(base, base + 80n), 'take');
  assert.equal(futexRole(base, base + 160n), 'drop');
  assert.equal(futexRole(base, base + 8n), undefined);
  assert.equal(futexRole(base, base + 4096n), undefined);
});

test('/proc/PID/task/TID/syscall lines', () => {
  assert.deepEqual(parseSyscallLine('running\n'), { running: true });
  assert.deepEqual(parseSyscallLine('202 0x7f00aa10 0x89 0x0 0x0 0x0 0xffffffff 0x7ffd 0x7f00\n'), { running: false, futex: 0x7f00aa10n });
  assert.deepEqual(parseSyscallLine('230 0x1 0x0 0x7ffe 0x7ffe 0x0 0x0 0x7ffe 0x7f\n'), { running: false });
});

test('time between samples across which the GIL changed hands is the error bound', () => {
  const acc = new GilAccounting();
  acc.add(sample(0, A, 0));
  acc.add(sample(1, A, 0)); // same holder, no switch: certain
  acc.add(sample(41, A, 2)); // a 40 ms stall in which B held it and gave it back: unseen
  acc.add(sample(42, B, 3)); // a seen change of holder: 1 ms uncertain
  acc.add(sample(43, B, 3));
  assert.equal(acc.uncertainNs, ms(41));
  // B's 40 ms inside the stall are lost, and the bound says how much can be
  const s = new Map(acc.snapshot().map((x) => [x.tstate, x]));
  assert.equal(s.get(B)!.holdAll, ms(1) + ms(1) / 2n);
  assert.ok(ms(40) - s.get(B)!.holdAll <= acc.uncertainNs);
});
