// Benchmark of whole-process start-up and CPU, side by side in one run:
//  1. `spyglass dump PID` against `node -e 0` (wall and CPU, median of N runs), for this
//     build's bundled bin (dist/bin/spyglass.js), when given an earlier build's entry file
//     (the "before", e.g. this build's unbundled dist/src/cli/main.js), and `py-spy dump`;
//  2. `spyglass record -d 5` at 100 and 1000 Hz against `py-spy record --nonblocking`
//     on the same target: the whole process's CPU (user + system), and at 100 Hz the
//     floor of any sampler written for Node (bench/record-floor.ts) on a 3.11+ target.
// With --before, the earlier build's `record` is run too (the start-up fix of a commit
// shows in both). Run with
//   npm run build && env -u NODE_EXTRA_CA_CERTS node dist/bench/startup.js [--before path/to/old/dist/src/cli/main.js] [--py-spy path] [--runs N] [--record-runs N]
// Copy the tables into BENCHMARKS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';
import { openReader } from '../src/reader/reader.js';
import type { FloorArgs } from './record-floor.js';
import { discoverPythons } from '../test/helpers/pythons.js';
import { startTarget } from '../test/helpers/targets.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'bin', 'spyglass.js');
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};

interface Times {
  wall: number;
  cpu: number;
}

/**
 * Wall and CPU seconds of one run of argv. CPU is the child's user + system time as bash's
 * `times` reports it (getrusage of the children, to the millisecond; /usr/bin/time counts
 * in 10 ms steps); wall is measured around bash, whose own start is in it for every
 * command alike.
 */
function timed(argv: string[]): Times {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const start = process.hrtime.bigint();
  // stdin not a socket, and --norc: bash reads ~/.bashrc when its stdin is a socket (as
  // under sshd), and a shell set-up (pyenv init) there would be timed too
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', '"$@" >/dev/null 2>&1; s=$?; times; exit $s', 'bash', ...argv], {
    encoding: 'utf8',
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  // `times` prints the shell's own user/system line, then its children's: "0m0.041s 0m0.012s"
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/m.exec(r.stdout.trim().split('\n')[1] ?? '');
  if (r.status !== 0 || !m) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { wall, cpu: 60 * Number(m[1]) + Number(m[2]) + 60 * Number(m[3]) + Number(m[4]) };
}

/** The addresses and offsets record-floor.ts walks with, from spyglass's layout of the target (3.11+). */
async function floorArgs(pid: number, seconds: number, rate: number): Promise<FloorArgs | undefined> {
  const reader = await openReader(pid);
  try {
    const L = reader.layout;
    if (!L.iframe) return undefined;
    return {
      pid,
      seconds,
      rate,
      interpretersHead: Number(reader.target.pyRuntime) + L.runtime.interpretersHead,
      threadsHead: L.interp.threadsHead,
      tstateSize: L.tstate.size,
      tstateNext: L.tstate.next,
      nativeThreadId: L.tstate.nativeThreadId!,
      cframe: L.tstate.cframe,
      cframeCurrent: L.cframe?.currentFrame,
      currentFrame: L.tstate.currentFrame,
      previous: L.iframe.previous,
      code: L.iframe.code,
      instr: L.iframe.instr,
      owner: L.iframe.owner,
      skipOwnerFrom: L.iframe.skipOwnerFrom,
      codeAdaptive: L.code.codeAdaptive!,
    };
  } finally {
    reader.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median wall and CPU of n runs, the commands interleaved so that load hits each alike. */
function medians(cmds: Record<string, string[]>, n: number): Record<string, Times> {
  const runs: Record<string, Times[]> = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < n; i++) for (const [k, argv] of Object.entries(cmds)) runs[k].push(timed(argv));
  return Object.fromEntries(
    Object.entries(runs).map(([k, ts]) => [k, { wall: median(ts.map((t) => t.wall)), cpu: median(ts.map((t) => t.cpu)) }]),
  );
}

async function main(): Promise<void> {
  const runs = Math.max(10, Number(arg('--runs') ?? 15));
  // the recordings: 5 s each, so fewer (their medians move by a few hundredths of a second)
  const recordRuns = Math.max(3, Number(arg('--record-runs') ?? 3));
  const before = arg('--before');
  const pyspy = arg('--py-spy');
  const py = discoverPythons().find((p) => p.minor === '3.12') ?? discoverPythons()[0];
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-bench-startup-'));
  const idle = await startTarget(py, 'dump_known.py', [], { readyTimeoutMs: 60000 });
  const busy = await startTarget(py, 'profile_split.py', [], { readyTimeoutMs: 60000 });
  try {
    const cmds: Record<string, string[]> = {
      'node -e 0': [process.execPath, '-e', '0'],
      'spyglass dump (this build)': [process.execPath, CLI, 'dump', String(idle.pid)],
    };
    if (before) cmds['spyglass dump (before)'] = [process.execPath, before, 'dump', String(idle.pid)];
    if (pyspy) cmds['py-spy dump'] = [pyspy, 'dump', '--pid', String(idle.pid)];
    const start = medians(cmds, runs);
    const rec: Record<string, string[]> = {};
    /** a 5 s recording of the busy target at this rate, written to dir/name */
    const recording = (rate: number, name: string) => ['-p', String(busy.pid), '-d', '5', '-r', String(rate), '-o', join(dir, name)];
    const floor = await floorArgs(busy.pid, 5, 100);
    if (floor)
      rec['bare Node sampling loop -d 5 -r 100 (bench/record-floor.ts)'] = [
        process.execPath,
        join(PACKAGE_ROOT, 'dist', 'bench', 'record-floor.js'),
        JSON.stringify(floor),
      ];
    for (const rate of [100, 1000]) {
      rec[`spyglass record -d 5 -r ${rate}`] = [process.execPath, CLI, 'record', ...recording(rate, `s${rate}.txt`), '-f', 'collapsed'];
      if (before)
        rec[`spyglass record -d 5 -r ${rate} (before)`] = [
          process.execPath,
          before,
          'record',
          ...recording(rate, `b${rate}.txt`),
          '-f',
          'collapsed',
        ];
      if (pyspy)
        rec[`py-spy record --nonblocking -d 5 -r ${rate}`] = [
          pyspy,
          'record',
          '--nonblocking',
          ...recording(rate, `p${rate}.txt`),
          '-f',
          'raw',
        ];
    }
    const record = medians(rec, recordRuns);
    const node = start['node -e 0'];
    console.log(
      `machine: ${cpus()[0]?.model}, ${cpus().length} cores; node ${process.version}; ${execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim()}; load ${loadavg()[0].toFixed(1)} at the end; target Python ${py.version}`,
    );
    console.log(`start-up, median of ${runs} runs each, interleaved:`);
    console.log('| command | wall s | CPU s | wall / node | CPU / node |');
    console.log('|---|---|---|---|---|');
    for (const [k, t] of Object.entries(start))
      console.log(
        `| ${k} | ${t.wall.toFixed(3)} | ${t.cpu.toFixed(3)} | ${(t.wall / node.wall).toFixed(2)} | ${(t.cpu / Math.max(node.cpu, 0.01)).toFixed(2)} |`,
      );
    console.log(`recording profile_split.py for 5 s, median of ${recordRuns} runs each, whole-process CPU:`);
    console.log('| command | CPU s | CPU % of one core |');
    console.log('|---|---|---|');
    for (const [k, t] of Object.entries(record)) console.log(`| ${k} | ${t.cpu.toFixed(2)} | ${((100 * t.cpu) / 5).toFixed(1)} |`);
  } finally {
    await idle.stop();
    await busy.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
