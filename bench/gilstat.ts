// Benchmark of gilstat's cost to the target: test/targets/gil_load.py (three threads
// contending for the GIL) reports its work rates (Python loops, sorts); phases of OFF and ON (gilstat on, the
// sampler at its default 2000 Hz, thresholds 10 10) alternate, so machine load drifts
// affect both alike, and the slowdown is 1 - the ratio of the mean rates, for each kind. Run with
//   npm run build && node dist/bench/gilstat.js [seconds per phase] [rounds] [path/to/python ...]
// and copy the table it prints into BENCHMARKS.md ("gilstat").
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { GilstatSession } from '../src/gil/session.js';
import { discoverPythons } from '../test/helpers/pythons.js';
import { startTarget, type Target } from '../test/helpers/targets.js';

/** Loop iterations and sorts per second between two moments, from the target's WORK lines. */
function rates(target: Target, fromNs: bigint, toNs: bigint): Rates {
  const points = [...target.stdout().matchAll(/^WORK (\d+) (\d+) (\d+)$/gm)]
    .map((m) => [BigInt(m[1]), Number(m[2]), Number(m[3])] as const)
    .filter(([t]) => t >= fromNs && t <= toNs);
  if (points.length < 2) throw new Error('too few WORK lines in a phase');
  const [t0, l0, s0] = points[0];
  const [t1, l1, s1] = points[points.length - 1];
  const seconds = Number(t1 - t0) / 1e9;
  return { loops: (l1 - l0) / seconds, sorts: (s1 - s0) / seconds };
}

interface Rates {
  loops: number;
  sorts: number;
}

/** CPU seconds the target has used (utime + stime from /proc/PID/stat). */
function targetCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /s, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

const monoNs = () => process.hrtime.bigint(); // CLOCK_MONOTONIC, as the target's time.monotonic_ns()

async function phase(target: Target, seconds: number, on: boolean): Promise<{ rates: Rates; perCpu: Rates; rateHz?: number; cpu: number }> {
  const session = on ? await GilstatSession.start(target.pid, { takeMs: 10, holdMs: 10 }) : undefined;
  let table: { rate_hz: number } | undefined;
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
  const cpu0 = process.cpuUsage();
  const targetCpu0 = targetCpu(target.pid);
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const targetSeconds = targetCpu(target.pid) - targetCpu0;
  const to = monoNs();
  await session?.stop();
  await drain;
  // spyglass's own CPU (the sampler thread included), as a share of one core
  const r = rates(target, from, to);
  // work per CPU second of the target: what gilstat costs the target's own execution,
  // without the noise of other processes competing for the cores
  const perCpu = { loops: (r.loops * seconds) / targetSeconds, sorts: (r.sorts * seconds) / targetSeconds };
  return { rates: r, perCpu, rateHz: table?.rate_hz, cpu: (cpu.user + cpu.system) / 1e6 / seconds };
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 4);
  const rounds = Number(process.argv[3] ?? 4);
  const paths = process.argv.slice(4);
  const pythons = paths.length
    ? discoverPythons().filter((p) => paths.includes(p.path))
    : discoverPythons().filter((p) => p.build === 'shared');
  const rows: string[] = [];
  for (const py of pythons) {
    const target = await startTarget(py, 'gil_load.py');
    try {
      await sleep(1000);
      const off: Rates[] = [];
      const on: Rates[] = [];
      const offPerCpu: Rates[] = [];
      const onPerCpu: Rates[] = [];
      let hz = 0;
      let cpu = 0;
      for (let r = 0; r < rounds; r++) {
        const a = await phase(target, seconds, false);
        off.push(a.rates);
        offPerCpu.push(a.perCpu);
        const b = await phase(target, seconds, true);
        on.push(b.rates);
        onPerCpu.push(b.perCpu);
        hz += (b.rateHz ?? 0) / rounds;
        cpu += b.cpu / rounds;
      }
      const mean = (xs: Rates[], k: keyof Rates) => xs.reduce((acc, x) => acc + x[k], 0) / xs.length;
      const cell = (a: Rates[], b: Rates[], k: keyof Rates) =>
        `${mean(a, k).toFixed(k === 'loops' ? 0 : 1)} / ${mean(b, k).toFixed(k === 'loops' ? 0 : 1)} (${(100 * (1 - mean(b, k) / mean(a, k))).toFixed(1)}%)`;
      rows.push(
        `| ${py.label} | ${cell(off, on, 'loops')} | ${cell(off, on, 'sorts')} | ${cell(offPerCpu, onPerCpu, 'loops')} | ${cell(offPerCpu, onPerCpu, 'sorts')} | ${hz.toFixed(0)} | ${(100 * cpu).toFixed(0)}% |`,
      );
    } finally {
      await target.stop();
    }
  }
  console.log(
    `machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores; node ${process.version}; ${rounds} rounds of ${seconds} s off + ${seconds} s on`,
  );
  console.log(
    '| Python | loops/s off / on (slowdown) | sorts/s off / on (slowdown) | loops per target CPU-s off / on | sorts per target CPU-s off / on | sampling rate achieved (Hz) | spyglass CPU while on (of one core) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
