// What the sampler counts as an error: a read that tears is one in a process that was
// running before the recording (an attached pid), and not in one still starting up (a
// launched program, before its first good sample). The "process" is this test process,
// read through a source that fails in a chosen way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sampler } from '../../src/sampler/sampler.js';
import type { SampleSource, ThreadSample } from '../../src/sampler/types.js';
import { TornReadError } from '../../src/sampler/validate.js';

function source(sample: () => ThreadSample[]): SampleSource {
  return { pid: process.pid, sample, pythonTids: () => [process.pid], close() {} };
}

const tornAlways = () => {
  throw new TornReadError('frame chain changed');
};

test('an attached process whose every read tears: each sample is an error, none is hidden as start-up', async () => {
  const sampler = new Sampler({ pid: process.pid, rate: 200, durationSec: 0.3, idle: true, openSource: () => source(tornAlways) });
  await sampler.openRoot();
  const stats = await sampler.run();
  assert.ok(stats.ticks >= 10, `${stats.ticks} ticks`);
  assert.equal(stats.samples, 0);
  assert.equal(stats.errors, stats.ticks);
  assert.equal(stats.errorKinds.get('torn read'), stats.ticks);
});

test('a launched process: reads that tear before its first good sample are start-up, after it errors', async () => {
  let reads = 0;
  const good: ThreadSample = {
    threadId: 1,
    nativeTid: process.pid,
    active: true,
    holdsGil: true,
    frames: [{ name: 'f', filename: 'f.py', line: 1 }],
  };
  // torn for the first 5 reads, then good once, then torn again
  const sample = () => {
    reads++;
    if (reads === 6) return [good];
    return tornAlways();
  };
  const sampler = new Sampler({
    pid: process.pid,
    rate: 200,
    durationSec: 0.3,
    idle: true,
    waitForInterpreter: true,
    openSource: () => source(sample),
  });
  await sampler.openRoot();
  const stats = await sampler.run();
  assert.ok(reads >= 10, `${reads} reads`);
  assert.equal(stats.samples, 1);
  assert.equal(stats.errors, reads - 6);
});
