// The reader caches each code object's name, file and line table by address, and the
// sampler relies on that to be cheap. A freed code object's address is reused by the
// next one of the same size, whose bytecode the frame's instruction offset also fits:
// the cache must notice (re-checked at least every second) rather than name the old
// function forever. test/targets/code_reuse.py replaces the function the main thread
// runs, at the same address, whenever it gets SIGUSR1.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget, type Target } from '../helpers/targets.js';
import { openReader, type PythonReader } from '../../src/reader/reader.js';

/** Generous: a loaded machine can leave the target without a CPU for seconds. */
const WAIT_MS = 30000;

/** The function the main thread is in, by sampling until it is `want` (or the time is up). */
async function sampleUntil(reader: PythonReader, pid: number, want: string): Promise<string[]> {
  const seen: string[] = [];
  for (const until = Date.now() + WAIT_MS; Date.now() < until; await sleep(20)) {
    const main = reader.sample({ threadNames: false, activity: false }).threads.find((t) => t.tid === pid);
    const top = main?.frames[0]?.name;
    if (top && top !== seen.at(-1)) seen.push(top);
    if (top === want) return seen;
  }
  assert.fail(`the main thread never showed ${want}; it showed ${seen.join(', ')}`);
}

async function running(target: Target, name: string): Promise<number> {
  const line = await target.waitFor(new RegExp(`^RUNNING ${name} \\d+$`), WAIT_MS);
  return Number(line.split(' ')[2]);
}

describe('a code object at a reused address is read again', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    test(py.label, async (t) => {
      const target = await startTarget(py, 'code_reuse.py', [], { readyTimeoutMs: 60000 });
      t.after(() => target.stop());
      const reader = await openReader(target.pid);
      t.after(() => reader.close());

      const first = await running(target, 'spin_1');
      await sampleUntil(reader, target.pid, 'spin_1');
      for (let i = 0; i < 10; i++) reader.sample({ threadNames: false, activity: false }); // cached and in use
      process.kill(target.pid, 'SIGUSR1');
      const second = await running(target, 'spin_2');
      assert.equal(second, first, 'premise: spin_2 took the freed address of spin_1');

      const seen = await sampleUntil(reader, target.pid, 'spin_2');
      assert.ok(
        seen.every((n) => n === 'spin_1' || n === 'spin_2'),
        seen.join(', '),
      );
      // once read again, the new function stays
      for (let i = 0; i < 20; i++) {
        const main = reader.sample({ threadNames: false, activity: false }).threads.find((x) => x.tid === target.pid);
        assert.equal(main?.frames[0]?.name, 'spin_2');
      }
    });
  }
});

test('code objects not met for a minute are forgotten', async (t) => {
  const py = discoverPythons().at(-1)!;
  const target = await startTarget(py, 'profile_split.py', [], { readyTimeoutMs: 60000 });
  t.after(() => target.stop());
  const reader = await openReader(target.pid);
  t.after(() => reader.close());
  const cached = () => (reader as unknown as { codes: Map<number, unknown> }).codes.size;
  // heavy() and light() take turns: sample until both have been cached
  const names = new Set<string>();
  for (const until = Date.now() + WAIT_MS; !(names.has('heavy') && names.has('light')) && Date.now() < until; await sleep(5)) {
    for (const th of reader.sample({ threadNames: false, activity: false }).threads) for (const f of th.frames) names.add(f.name);
  }
  assert.ok(names.has('heavy') && names.has('light'), [...names].join(', '));
  const before = cached();
  // a minute later for the reader's clock (src/clock.ts reads process.hrtime)
  const realHrtime = process.hrtime;
  process.hrtime = Object.assign((prev?: [number, number]) => {
    const [s, ns] = realHrtime(prev);
    return [s + 61, ns] as [number, number];
  }, realHrtime);
  try {
    const dump = reader.sample({ threadNames: false, activity: false });
    const inSample = new Set(dump.threads.flatMap((th) => th.frames.map((f) => `${f.filename}:${f.firstLine}:${f.name}`)));
    assert.ok(
      cached() <= inSample.size + 1,
      `${cached()} code objects cached after the sweep, ${inSample.size} in the sample (${before} before)`,
    );
    assert.ok(cached() < before);
  } finally {
    process.hrtime = realHrtime;
  }
});
