// Benchmark of --native (docs/native-unwinding.md): side by side with py-spy and pystack
// when they are installed (a throwaway venv: python3 -m venv V && V/bin/pip install
// py-spy pystack), on one target: 4 busy threads 30 Python frames deep
// (bench/native_busy_deep.py). Measures the whole `dump --native` command, the pause per
// reading (seize to detach, all Python threads), the share of thread readings merged,
// and a `record --native` run's achieved rate and CPU. Run with
//   npm run build && env -u NODE_EXTRA_CA_CERTS node dist/bench/native.js [python] [peer-venv-bin]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMixedStacks } from '../src/native/mixed-stacks.js';
import { NativeProcess } from '../src/native/native-process.js';
import { PauseFailedError, whilePaused } from '../src/proc/pause.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { openReader } from '../src/reader/reader.js';
import { startTarget } from '../test/helpers/targets.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');
const python = process.argv[2] ?? '/root/.pyenv/versions/3.12.1/bin/python3.12';
const peers = process.argv[3] ?? '/tmp/spyglass-peers/bin';
const RUNS = 10;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function timeCommand(cmd: string, args: string[]): number | string {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) return `failed: ${r.stderr.toString().trim().split('\n').at(-1)}`;
    times.push(performance.now() - t0);
  }
  return pct(times, 50);
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const target = await startTarget(python, join(PACKAGE_ROOT, 'bench', 'native_busy_deep.py'), ['4', '30'], { notChild: true });
try {
  const pid = target.pid;
  const reader = await openReader(pid);
  const np = new NativeProcess(pid);
  np.prepare();
  // pause per reading: every Python thread seized, registers read, native and Python stacks read, detached
  const tids = reader.sample().threads.flatMap((t) => (t.tid !== undefined ? [t.tid] : []));
  const pauses: number[] = [];
  let pauseFailures = 0;
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    try {
      await whilePaused(
        pid,
        tids,
        (paused) => {
          for (const t of paused) np.unwind(t.getRegs());
          reader.sample({ activity: false, threadNames: false });
        },
        2000,
      );
    } catch (e) {
      if (!(e instanceof PauseFailedError)) throw e;
      pauseFailures++;
      continue;
    }
    pauses.push(performance.now() - t0);
  }
  let threads = 0;
  let merged = 0;
  for (let i = 0; i < 300; i++) {
    for (const t of (await readMixedStacks(reader, np)).threads) {
      threads++;
      if (t.native?.merged) merged++;
    }
  }
  np.close();
  reader.close();

  // record's CPU: the shell that waits for it reads its own children's CPU time (cutime + cstime)
  const out = mkdtempSync(join(tmpdir(), 'spyglass-bench-native-'));
  const rec = spawnSync(
    'sh',
    [
      '-c',
      `"$@" 2>${join(out, 'err.txt')}; cat /proc/$$/stat`,
      'sh',
      process.execPath,
      CLI,
      'record',
      '-p',
      String(pid),
      '--native',
      '-r',
      '250',
      '-d',
      '5',
      '-f',
      'collapsed',
      '-o',
      join(out, 'p.txt'),
    ],
    { encoding: 'utf8' },
  );
  const shStat = rec.stdout.slice(rec.stdout.lastIndexOf(')') + 2).split(' ');
  const recCpu = (Number(shStat[13]) + Number(shStat[14])) / 100;
  const recLine = readFileSync(join(out, 'err.txt'), 'utf8').split('\n')[0];
  rmSync(out, { recursive: true, force: true });

  const cmdSpyglass = timeCommand(process.execPath, [CLI, 'dump', String(pid), '--native']);
  const pyspy = join(peers, 'py-spy');
  const pystack = join(peers, 'pystack');
  const cmdPyspy = existsSync(pyspy) ? timeCommand(pyspy, ['dump', '--native', '--pid', String(pid)]) : 'not installed';
  const cmdPystack = existsSync(pystack) ? timeCommand(pystack, ['remote', String(pid), '--native']) : 'not installed';
  const targetCpu = cpuSeconds(pid);

  const ms = (v: number | string) => (typeof v === 'number' ? v.toFixed(0) : v);
  console.log(
    `machine: ${cpus()[0].model}, ${cpus().length} cores; node ${process.version}; target ${python} (4 busy threads x 30 frames), target CPU so far ${targetCpu.toFixed(1)} s`,
  );
  console.log('| measure | spyglass | py-spy | pystack |');
  console.log('|---|---|---|---|');
  console.log(`| \`dump --native\` whole command, ms (p50 of ${RUNS}) | ${ms(cmdSpyglass)} | ${ms(cmdPyspy)} | ${ms(cmdPystack)} |`);
  console.log(
    `| pause per reading (4 threads), ms median / p99 (${pauseFailures} of 300 not stopped within 2 s) | ${pct(pauses, 50).toFixed(2)} / ${pct(pauses, 99).toFixed(2)} | | |`,
  );
  console.log(`| thread readings merged | ${merged} of ${threads} (${((100 * merged) / threads).toFixed(2)}%) | | |`);
  console.log(`| \`record --native -r 250 -d 5\` | ${recLine}; ${recCpu.toFixed(2)} CPU s in 5 s | | |`);
} finally {
  await target.stop();
}
