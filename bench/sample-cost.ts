// Benchmark of what one sample of `record` costs, the way `record` takes it: the source
// record uses (openPythonSource), one sample() per wake-up, with a gap between samples
// (10 ms is 100 Hz) or none (back to back, caches warm). Reports per sample: the main
// thread's CPU (the first field of /proc/thread-self/schedstat, in ns: precise where the
// kernel accounts CPU in ticks), the whole process's CPU (process.cpuUsage, tick-based),
// and the read syscalls made (/proc/self/io syscr).
// Run with
//   npx tsc -p tsconfig.json && node dist/bench/sample-cost.js [--python path] [--script profile_split.py] [--samples N] [--gaps 10,0] [--rounds 3] [--idle]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { openPythonSource } from '../src/sampler/source.js';
import { startTarget } from '../test/helpers/targets.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const python = arg('--python', '/root/.pyenv/versions/3.12.1/bin/python3.12');
const script = arg('--script', 'profile_split.py');
const samples = Number(arg('--samples', '500'));
const gaps = arg('--gaps', '10,0').split(',').map(Number);
const rounds = Number(arg('--rounds', '3'));
// what `record` asks without --idle (idle threads are left out); --idle asks what `record --idle` does
const opts = { idle: process.argv.includes('--idle') };

const cell = new Int32Array(new SharedArrayBuffer(4));
const threadNs = () => Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
const syscr = () => Number(/syscr: (\d+)/.exec(readFileSync('/proc/self/io', 'latin1'))![1]);

const target = await startTarget(python, script);
try {
  const src = await openPythonSource(target.pid);
  let threads = 0;
  // warm up the code paths (JIT) before any figure is taken
  for (let i = 0; i < 200; i++) threads += src.sample(opts).length;
  console.log(`target ${python} ${script}, ${threads / 200} threads a sample, ${samples} samples a round, load ${loadavg()[0].toFixed(2)}`);
  for (let r = 0; r < rounds; r++) {
    for (const [gap, sampling] of [...gaps.map((g) => [g, true] as const), ...gaps.filter((g) => g > 0).map((g) => [g, false] as const)]) {
      // schedstat and io are read outside the timed stretch only (each costs a syscall too)
      const r0 = syscr();
      const t0 = threadNs();
      const c0 = process.cpuUsage();
      for (let i = 0; i < samples; i++) {
        if (gap > 0) Atomics.wait(cell, 0, 0, gap);
        if (sampling) src.sample(opts);
      }
      const c = process.cpuUsage(c0);
      const t = threadNs() - t0;
      const reads = syscr() - r0 - 2;
      const waitNote = !sampling ? ' (the waits alone, no sample)' : gap > 0 ? ` (includes the wake-up from a ${gap} ms wait)` : '';
      console.log(
        `gap ${String(gap).padStart(2)} ms: main thread ${(t / samples / 1e6).toFixed(3)} ms, process ${((c.user + c.system) / samples / 1e3).toFixed(3)} ms, ${(reads / samples).toFixed(1)} reads per sample${waitNote}`,
      );
    }
  }
  src.close();
} finally {
  await target.stop();
}
console.log(`load ${loadavg()[0].toFixed(2)}`);
