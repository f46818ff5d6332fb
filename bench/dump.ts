// Benchmark of `spyglass dump`: wall time and read syscalls per dump, on a 10-thread
// target and on a 200-thread target whose threads are 50 frames deep. Run with
//   npm run build && node dist/bench/dump.js [path/to/python]
// and copy the table it prints into BENCHMARKS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';
import { openReader } from '../src/reader/reader.js';
import { discoverPythons } from '../test/helpers/pythons.js';
import { startTarget } from '../test/helpers/targets.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'bin', 'spyglass.js');

interface Result {
  case: string;
  python: string;
  threads: number;
  frames: number;
  firstMs: number;
  firstReads: number;
  meanMs: number;
  p95Ms: number;
  reads: number;
  commandMs: number;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function measure(python: string, label: string, threads: number, depth: number, iterations: number): Promise<Result> {
  const target = await startTarget(python, 'deep_threads.py', [String(threads), String(depth)], { readyTimeoutMs: 60000 });
  try {
    const reader = await openReader(target.pid);
    try {
      let t0 = performance.now();
      let r0 = reader.readCount;
      const first = reader.sample();
      const firstMs = performance.now() - t0;
      const firstReads = reader.readCount - r0;
      const times: number[] = [];
      r0 = reader.readCount;
      for (let i = 0; i < iterations; i++) {
        t0 = performance.now();
        reader.sample();
        times.push(performance.now() - t0);
      }
      const reads = (reader.readCount - r0) / iterations;
      const commandTimes: number[] = [];
      for (let i = 0; i < 5; i++) {
        t0 = performance.now();
        const r = spawnSync(process.execPath, [CLI, 'dump', String(target.pid)], { stdio: ['ignore', 'ignore', 'inherit'] });
        if (r.status !== 0) throw new Error(`dump exited ${r.status}`);
        commandTimes.push(performance.now() - t0);
      }
      return {
        case: label,
        python: reader.target.version.text,
        threads: first.threads.length,
        frames: first.threads.reduce((n, t) => n + t.frames.length, 0),
        firstMs,
        firstReads,
        meanMs: times.reduce((a, b) => a + b, 0) / times.length,
        p95Ms: percentile(times, 95),
        reads,
        commandMs: percentile(commandTimes, 50),
      };
    } finally {
      reader.close();
    }
  } finally {
    await target.stop();
  }
}

async function main(): Promise<void> {
  const pythons = process.argv[2]
    ? [process.argv[2]]
    : discoverPythons()
        .filter((p) => p.build === 'shared')
        .map((p) => p.path);
  const results: Result[] = [];
  for (const py of pythons) {
    results.push(await measure(py, '10 threads', 10, 20, 200));
    results.push(await measure(py, '200 threads x 50 frames', 200, 50, 30));
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `machine: ${cpu}, ${cpus().length} cores; node ${process.version}; ${execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim()}`,
  );
  console.log(
    '| target | Python | threads | frames | first dump ms (reads) | dump ms mean / p95 (reader reused) | reads per dump | `spyglass dump` command ms (p50) |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.case} | ${r.python} | ${r.threads} | ${r.frames} | ${r.firstMs.toFixed(1)} (${r.firstReads}) | ${r.meanMs.toFixed(2)} / ${r.p95Ms.toFixed(2)} | ${r.reads.toFixed(0)} | ${r.commandMs.toFixed(0)} |`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
