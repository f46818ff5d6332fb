// Benchmark of gilstat's cost to the target: test/targets/gil_load.py (three threads
// contending for the GIL) reports its work rate; phases of OFF and ON (gilstat on, the
// sampler at its default 2000 Hz, thresholds 10 10) alternate, so machine load drifts
// affect both alike, and the slowdown is the ratio of the mean rates. Run with
//   npm run build && node dist/bench/gilstat.js [seconds per phase] [rounds] [path/to/python ...]
// and copy the table it prints into BENCHMARKS.md ("gilstat").
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { GilstatSession } from '../src/gil/session.js';
import { discoverPythons } from '../test/helpers/pythons.js';
import { startTarget, type Target } from '../test/helpers/targets.js';

/** Loop iterations per second between two moments, from the target's WORK lines. */
function rate(target: Target, fromNs: bigint, toNs: bigint): number {
  const points = [...target.stdout().matchAll(/^WORK (\d+) (\d+)$/gm)]
    .map((m) => [BigInt(m[1]), Number(m[2])] as const)
    .filter(([t]) => t >= fromNs && t <= toNs);
  if (points.length < 2) throw new Error('too few WORK lines in a phase');
  const [t0, n0] = points[0];
  const [t1, n1] = points[points.length - 1];
  return (n1 - n0) / (Number(t1 - t0) / 1e9);
}

const monoNs = () => process.hrtime.bigint(); // CLOCK_MONOTONIC, as the target's time.monotonic_ns()

async function phase(target: Target, seconds: number, on: boolean): Promise<{ rate: number; samples?: number; rateHz?: number }> {
  const session = on ? await GilstatSession.start(target.pid, { takeMs: 10, holdMs: 10 }) : undefined;
  let table: { samples: number; rate_hz: number } | undefined;
  const drain = session
    ? (async () => {
        for await (const m of session) {
          if (m.type === 'error') throw new Error(m.message);
          if (m.type === 'table') table = m;
        }
      })()
    : Promise.resolve();
  await sleep(300); // the sampler is up (or the idle phase has settled)
  const from = monoNs();
  await sleep(seconds * 1000);
  const to = monoNs();
  await session?.stop();
  await drain;
  return { rate: rate(target, from, to), samples: table?.samples, rateHz: table?.rate_hz };
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 4);
  const rounds = Number(process.argv[3] ?? 4);
  const paths = process.argv.slice(4);
  const pythons = paths.length ? discoverPythons().filter((p) => paths.includes(p.path)) : discoverPythons().filter((p) => p.build === 'shared');
  const rows: string[] = [];
  for (const py of pythons) {
    const target = await startTarget(py, 'gil_load.py');
    try {
      await sleep(1000);
      const off: number[] = [];
      const on: number[] = [];
      let hz = 0;
      for (let r = 0; r < rounds; r++) {
        off.push((await phase(target, seconds, false)).rate);
        const p = await phase(target, seconds, true);
        on.push(p.rate);
        hz = p.rateHz ?? 0;
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const slowdown = 100 * (1 - mean(on) / mean(off));
      rows.push(`| ${py.label} | ${mean(off).toFixed(0)} | ${mean(on).toFixed(0)} | ${hz} | ${slowdown.toFixed(1)}% | ${off.map((x) => x.toFixed(0)).join(' ')} / ${on.map((x) => x.toFixed(0)).join(' ')} |`);
    } finally {
      await target.stop();
    }
  }
  console.log(`machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores; node ${process.version}; ${rounds} rounds of ${seconds} s off + ${seconds} s on`);
  console.log('| Python | work rate off (loops/s) | work rate on | sampling rate achieved (Hz) | slowdown | each phase off / on |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
