// Benchmark of `spyglass record` (issue 4), side by side with py-spy where it can be installed:
//  1. the highest sustained sampling rate on a 4-thread, 30-deep target, and the
//     sampler's own CPU (process.cpuUsage of this process around the engine) per rate;
//  2. the target's slowdown: its throughput while `spyglass record` (the command) samples
//     it at 100 and 1000 Hz, against the phases just before and after with no profiler;
//  3. py-spy in the same run at the same rates: its CPU, the slowdown, and both
//     profilers' share of heavy() on profile_split.py (known: 75%).
// Run with
//   npx tsc -p tsconfig.json && node dist/bench/record.js [path/to/python]
// py-spy is installed on demand into /tmp/bench-venv-pyspy (not a dependency); without
// network access its columns say so. Copy the tables into BENCHMARKS.md.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PACKAGE_ROOT } from '../src/paths.js';
import { recordProfile } from '../src/record/record.js';
import { openPythonSource } from '../src/sampler/source.js';
import { discoverPythons } from '../test/helpers/pythons.js';
import { parseCollapsed, samplesIn, startProfileTarget } from '../test/helpers/profiles.js';
import type { Target } from '../test/helpers/targets.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'bin', 'spyglass.js');
const PYSPY_VENV = '/tmp/bench-venv-pyspy';
const PYSPY = join(PYSPY_VENV, 'bin', 'py-spy');
const VENV_PYTHON = '/root/.pyenv/versions/3.11.7/bin/python';
const CLK_TCK = 100;
const work = mkdtempSync(join(tmpdir(), 'spyglass-bench-record-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** py-spy's path, installing it first if needed; undefined (with the reason printed) when it cannot be had. */
function pyspy(): string | undefined {
  if (existsSync(PYSPY)) return PYSPY;
  try {
    if (!existsSync(join(PYSPY_VENV, 'bin', 'pip'))) execFileSync(VENV_PYTHON, ['-m', 'venv', PYSPY_VENV], { stdio: 'inherit' });
    execFileSync(join(PYSPY_VENV, 'bin', 'pip'), ['install', '-q', 'py-spy'], { stdio: 'inherit', timeout: 300000 });
    return PYSPY;
  } catch (e) {
    console.log(`(py-spy comparison skipped: cannot install py-spy: ${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

interface CommandRun {
  /** CPU seconds of the command (user + system), start-up included */
  cpu: number;
  wall: number;
}

/**
 * Runs a command under sh and reads its CPU time from sh's cutime/cstime once it has
 * been waited for: /proc/PID/stat of the command itself is gone by then.
 */
function runMeasured(argv: string[]): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const started = performance.now();
    const p = spawn('sh', ['-c', '"$@" >/dev/null 2>&1; s=$?; cat /proc/$$/stat; exit $s', 'sh', ...argv], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
    });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${argv.join(' ')} exited ${code}`));
      const fields = out.slice(out.lastIndexOf(')') + 2).split(' ');
      // after ") ": state is field 3, cutime and cstime are fields 16 and 17
      const cpu = (Number(fields[16 - 3]) + Number(fields[17 - 3])) / CLK_TCK;
      resolve({ cpu, wall: (performance.now() - started) / 1000 });
    });
  });
}

interface Count {
  batches: number;
  /** time.monotonic() */
  t: number;
  /** the target's CPU seconds */
  cpu: number;
}

/** The target's last "COUNT batches monotonic cpu" line. */
function lastCount(target: Target): Count {
  const lines = target.stdout().trimEnd().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^COUNT (\d+) ([\d.]+) ([\d.]+)$/.exec(lines[i]);
    if (m) return { batches: Number(m[1]), t: Number(m[2]), cpu: Number(m[3]) };
  }
  throw new Error('the target printed no COUNT line');
}

interface Throughput {
  batches: number;
  seconds: number;
  cpuSeconds: number;
}

/** What the target did while fn ran (fn's span, at the target's 0.25 s resolution). */
async function throughputDuring(target: Target, fn: () => Promise<unknown>): Promise<Throughput> {
  await sleep(300);
  const a = lastCount(target);
  await fn();
  await sleep(300);
  const b = lastCount(target);
  return { batches: b.batches - a.batches, seconds: b.t - a.t, cpuSeconds: b.cpu - a.cpu };
}

/** Pooled throughput: per wall second and per CPU second of the target. */
function rates(xs: Throughput[]): { wall: number; cpu: number } {
  const sum = (k: keyof Throughput) => xs.reduce((a, x) => a + x[k], 0);
  return { wall: sum('batches') / sum('seconds'), cpu: sum('batches') / sum('cpuSeconds') };
}

const fmtPct = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;

async function maxRate(python: string): Promise<void> {
  console.log(
    '\n### 1. Sustained rate and sampler CPU (4 threads, 30 frames deep, all busy; the engine in this process, reader opened once, 3 s per rate)\n',
  );
  console.log('| requested Hz | effective Hz | skipped (behind) | errors | sampler CPU, % of one core | µs CPU per sample |');
  console.log('|---|---|---|---|---|---|');
  const target = await startProfileTarget(python, 'profile_bench.py', ['4', '30']);
  // opened once: what is measured is sampling, not finding the interpreter in the target
  const source = await openPythonSource(target.pid);
  const openSource = () => ({ ...source, close() {} });
  try {
    // warm-up (the JIT, the reader's caches), not reported
    await recordProfile({
      pid: target.pid,
      rate: 1000,
      durationSec: 1,
      format: 'collapsed',
      output: join(work, 'warm-up.txt'),
      openSource,
    });
    for (const rate of [100, 1000, 2000, 5000, 10000]) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await recordProfile({
        pid: target.pid,
        rate,
        durationSec: 3,
        format: 'collapsed',
        output: join(work, `rate-${rate}.txt`),
        openSource,
      });
      const wall = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      const cpu = (c.user + c.system) / 1e6;
      const eff = r.stats.ticks / r.stats.elapsed;
      console.log(
        `| ${rate} | ${eff.toFixed(0)} | ${r.stats.behind} | ${r.stats.errors} | ${((100 * cpu) / wall).toFixed(2)} | ${((cpu * 1e6) / Math.max(1, r.stats.ticks)).toFixed(0)} |`,
      );
    }
  } finally {
    source.close();
    await target.stop();
  }
}

interface Profiler {
  name: string;
  /** the command that records `seconds` at `rate` into `out` (collapsed stacks) */
  argv(pid: number, rate: number, seconds: number, out: string): string[];
}

const spyglassCli: Profiler = {
  name: 'spyglass record',
  argv: (pid, rate, seconds, out) => [
    process.execPath,
    CLI,
    'record',
    '-p',
    String(pid),
    '-r',
    String(rate),
    '-d',
    String(seconds),
    '-f',
    'collapsed',
    '-o',
    out,
  ],
};

function pyspyProfiler(exe: string): Profiler {
  return {
    name: 'py-spy record --nonblocking',
    argv: (pid, rate, seconds, out) => [
      exe,
      'record',
      '-p',
      String(pid),
      '-r',
      String(rate),
      '-d',
      String(seconds),
      '-f',
      'raw',
      '-o',
      out,
      '--nonblocking',
    ],
  };
}

async function slowdown(python: string, profilers: Profiler[]): Promise<void> {
  const SECONDS = 4;
  const REPEATS = 3;
  console.log(
    `\n### 2. Target slowdown and profiler CPU (${REPEATS} phases of ${SECONDS} s with the profiler, each between two without; ` +
      'command CPU includes its start-up)\n',
  );
  console.log('| profiler | Hz | target batches/s vs without | target batches per CPU-second vs without | profiler CPU, % of one core |');
  console.log('|---|---|---|---|---|');
  const target = await startProfileTarget(python, 'profile_bench.py', ['4', '30']);
  try {
    await target.waitFor(/^COUNT/);
    const idle = () => sleep(SECONDS * 1000);
    for (const p of profilers) {
      for (const rate of [100, 1000]) {
        const off: Throughput[] = [await throughputDuring(target, idle)];
        const on: Throughput[] = [];
        const runs: CommandRun[] = [];
        for (let i = 0; i < REPEATS; i++) {
          on.push(
            await throughputDuring(target, async () =>
              runs.push(await runMeasured(p.argv(target.pid, rate, SECONDS, join(work, 'slow.txt')))),
            ),
          );
          off.push(await throughputDuring(target, idle));
        }
        const [with_, without] = [rates(on), rates(off)];
        const cpu = runs.reduce((a, r) => a + r.cpu, 0) / runs.reduce((a, r) => a + r.wall, 0);
        console.log(
          `| ${p.name} | ${rate} | ${fmtPct((100 * (with_.wall - without.wall)) / without.wall)} | ${fmtPct((100 * (with_.cpu - without.cpu)) / without.cpu)} | ${(100 * cpu).toFixed(2)} |`,
        );
      }
    }
  } finally {
    await target.stop();
  }
}

async function accuracy(python: string, profilers: Profiler[]): Promise<void> {
  const SECONDS = 10;
  console.log(
    `\n### 3. Accuracy on profile_split.py (heavy:light = 75:25 by CPU time; ${SECONDS} s each, one after the other on the same target)\n`,
  );
  console.log('| profiler | Hz | heavy share | error (points) | heavy+light samples |');
  console.log('|---|---|---|---|---|');
  const target = await startProfileTarget(python, 'profile_split.py');
  try {
    for (const rate of [100, 1000]) {
      for (const p of profilers) {
        const out = join(work, `split-${rate}.txt`);
        await runMeasured(p.argv(target.pid, rate, SECONDS, out));
        const stacks = parseCollapsed(readFileSync(out, 'utf8'));
        const heavy = samplesIn(stacks, 'heavy');
        const light = samplesIn(stacks, 'light');
        const share = (100 * heavy) / (heavy + light);
        console.log(`| ${p.name} | ${rate} | ${share.toFixed(1)}% | ${(share - 75).toFixed(1)} | ${heavy + light} |`);
      }
    }
  } finally {
    await target.stop();
  }
}

async function main(): Promise<void> {
  const python =
    process.argv[2] ??
    discoverPythons().find((p) => p.version.startsWith('3.11') && p.build === 'shared')?.path ??
    discoverPythons()[0].path;
  const version = execFileSync(python, ['-c', 'import sys; print(sys.version.split()[0])'], { encoding: 'utf8' }).trim();
  console.log(
    `## record benchmark: Python ${version} (${python}), ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  console.log(
    `load average at start: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const exe = pyspy();
  if (exe) console.log(`py-spy: ${execFileSync(exe, ['--version'], { encoding: 'utf8' }).trim()}`);
  const profilers = [spyglassCli, ...(exe ? [pyspyProfiler(exe)] : [])];
  await maxRate(python);
  await slowdown(python, profilers);
  await accuracy(python, profilers);
  console.log(
    `\nload average at end: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
}

await main();
