// Benchmark of --native (docs/native-unwinding.md), side by side with py-spy and pystack
// when they are installed (a throwaway venv: python3 -m venv V && V/bin/pip install
// py-spy pystack). Run with
//   npm run build && env -u NODE_EXTRA_CA_CERTS node dist/bench/native.js [peer-venv-bin]
// On one target, 4 busy threads 30 Python frames deep (bench/native_busy_deep.py) under
// CPython 3.12.1:
//  - the whole `dump --native` command of each tool, the three run in turn, RUNS times;
//    and spyglass's first run, with an empty cache directory;
//  - the pause of each reading (every Python thread seized, registers and stacks read,
//    all let go), median and p99;
//  - `record --native -r 250` for 5 s: the rate achieved and the CPU spent.
// Then, per interpreter found (test/helpers/pythons.ts): the share of thread readings
// that merged on the busy target, and how many of gdb's `bt` frames (by address) the
// native walk of a target parked in a known mixed stack (test/targets/native_qsort.py) has.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMixedStacks } from '../src/native/mixed-stacks.js';
import { NativeProcess } from '../src/native/native-process.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { PauseFailedError, whilePaused } from '../src/proc/pause.js';
import { openReader } from '../src/reader/reader.js';
import { nativeStackOf } from '../test/helpers/native-fixture.js';
import { discoverPythons } from '../test/helpers/pythons.js';
import { startTarget, TARGETS_DIR } from '../test/helpers/targets.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'bin', 'spyglass.js');
const MAIN_PYTHON = '/root/.pyenv/versions/3.12.1/bin/python3.12';
const peers = process.argv[2] ?? '/tmp/spyglass-peers/bin';
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const PAUSES = 300;
const FIRST_RUNS = 3;
const MERGE_READINGS = 100;
const BUSY = join(PACKAGE_ROOT, 'bench', 'native_busy_deep.py');
/** gdb.Frame.type() values (gdb's Python API) */
const GDB_INLINE_FRAME = 2;
const GDB_TAILCALL_FRAME = 3;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function timeOnce(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number | string {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  if (r.status !== 0) return `failed: ${r.stderr.toString().trim().split('\n').at(-1)}`;
  return performance.now() - t0;
}

/** Each command RUNS times, taking turns, so that the machine's load weighs on all alike; the median of each. */
function timeTogether(cmds: Array<[string, string[]] | undefined>): Array<number | string> {
  const times = cmds.map(() => [] as number[]);
  const failed: Array<string | undefined> = cmds.map(() => undefined);
  for (let i = 0; i < RUNS; i++) {
    cmds.forEach((c, j) => {
      if (!c || failed[j]) return;
      const t = timeOnce(c[0], c[1]);
      if (typeof t === 'string') failed[j] = t;
      else times[j].push(t);
    });
  }
  return cmds.map((c, j) => (!c ? 'not installed' : (failed[j] ?? pct(times[j], 50))));
}

/** Pause per reading and merged share over n readings of a target's Python threads. */
async function readings(pid: number, n: number): Promise<{ pauses: number[]; failures: number; threads: number; merged: number }> {
  const reader = await openReader(pid);
  const np = new NativeProcess(pid);
  try {
    np.prepare();
    const tids = reader.sample().threads.flatMap((t) => (t.tid !== undefined ? [t.tid] : []));
    const pauses: number[] = [];
    let failures = 0;
    for (let i = 0; i < n; i++) {
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
        pauses.push(performance.now() - t0);
      } catch (e) {
        if (!(e instanceof PauseFailedError)) throw e;
        failures++;
      }
    }
    let threads = 0;
    let merged = 0;
    for (let i = 0; i < n; i++) {
      for (const t of (await readMixedStacks(reader, np)).threads) {
        threads++;
        if (t.native?.merged) merged++;
      }
    }
    return { pauses, failures, threads, merged };
  } finally {
    np.close();
    reader.close();
  }
}

/** How many of gdb's frames with an address (inlined copies have none of their own) the native walk has. */
async function gdbAgreement(pid: number): Promise<string> {
  // the walk itself, before any merge replaces the evaluation loop's frames
  const np = new NativeProcess(pid);
  let ours: Set<bigint>;
  try {
    // READY comes just before time.sleep: look again until the thread waits in it, as gdb will see it
    let { frames } = await nativeStackOf(np, pid);
    for (let i = 0; i < 50 && !/nanosleep|select/.test(frames[0].name); i++) {
      await new Promise((r) => setTimeout(r, 100));
      frames = (await nativeStackOf(np, pid)).frames;
    }
    ours = new Set(frames.map((f) => f.address));
  } finally {
    np.close();
  }
  // gdb's own walk, frame by frame with each frame's type: inlined copies and the tail-call
  // frames gdb rebuilds from call-site debug information are not on the stack, so only
  // normal and signal frames are counted
  const script = [
    'f = gdb.newest_frame()',
    'while f is not None:',
    '    print("FRAME %x %d" % (f.pc(), f.type()))',
    '    f = f.older()',
  ].join('\n');
  let out: string;
  try {
    out = execFileSync('gdb', ['-p', String(pid), '-batch', '-nx', '-ex', 'set debuginfod enabled off', '-ex', `python\n${script}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 120000,
    });
  } catch (e) {
    return `gdb failed: ${(e as Error).message.split('\n')[0]}`;
  }
  let total = 0;
  let found = 0;
  let inlined = 0;
  let tail = 0;
  for (const m of out.matchAll(/^FRAME ([0-9a-f]+) (\d+)$/gm)) {
    const type = Number(m[2]);
    if (type === GDB_INLINE_FRAME) inlined++;
    else if (type === GDB_TAILCALL_FRAME) tail++;
    else {
      total++;
      if (ours.has(BigInt(`0x${m[1]}`))) found++;
    }
  }
  return `${found} of ${total} (gdb also shows ${inlined} inlined, ${tail} tail-call)`;
}

const ms = (v: number | string) => (typeof v === 'number' ? v.toFixed(0) : v);
const cpuOf = (stat: string) => {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

console.log(
  `machine: ${cpus()[0].model}, ${cpus().length} cores; node ${process.version}; load average at start ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
const target = await startTarget(MAIN_PYTHON, BUSY, ['4', '30'], { notChild: true });
try {
  const pid = target.pid;
  const pyspy = join(peers, 'py-spy');
  const pystack = join(peers, 'pystack');
  const [cmdSpyglass, cmdPyspy, cmdPystack] = timeTogether([
    [process.execPath, [CLI, 'dump', String(pid), '--native']],
    existsSync(pyspy) ? [pyspy, ['dump', '--native', '--pid', String(pid)]] : undefined,
    existsSync(pystack) ? [pystack, ['remote', String(pid), '--native']] : undefined,
  ]);
  // a first run: no code cache and no native index yet (docs/bundle.md, docs/native-index.md)
  const firstRuns: number[] = [];
  for (let i = 0; i < FIRST_RUNS; i++) {
    const home = mkdtempSync(join(tmpdir(), 'spyglass-bench-cache-'));
    const t = timeOnce(process.execPath, [CLI, 'dump', String(pid), '--native'], { ...process.env, XDG_CACHE_HOME: home });
    rmSync(home, { recursive: true, force: true });
    if (typeof t === 'number') firstRuns.push(t);
  }
  const r = await readings(pid, PAUSES);

  // record's CPU: the shell that waits for it reads its own children's CPU time (cutime + cstime)
  const out = mkdtempSync(join(tmpdir(), 'spyglass-bench-native-'));
  const record = (tool: string[]) => {
    const rec = spawnSync('sh', ['-c', `"$@" >/dev/null 2>${join(out, 'err.txt')}; cat /proc/$$/stat`, 'sh', ...tool], {
      encoding: 'utf8',
    });
    const shStat = rec.stdout.slice(rec.stdout.lastIndexOf(')') + 2).split(' ');
    return { cpu: (Number(shStat[13]) + Number(shStat[14])) / 100, err: readFileSync(join(out, 'err.txt'), 'utf8') };
  };
  const ours = record([
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
  ]);
  const theirs = existsSync(pyspy)
    ? record([pyspy, 'record', '--native', '-p', String(pid), '-r', '250', '-d', '5', '-f', 'raw', '-o', join(out, 'pyspy.txt')])
    : undefined;
  rmSync(out, { recursive: true, force: true });
  const targetCpu = cpuOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));

  console.log(`target: ${MAIN_PYTHON}, 4 busy threads x 30 frames; its CPU so far ${targetCpu.toFixed(1)} s`);
  console.log('| measure | spyglass | py-spy | pystack |');
  console.log('|---|---|---|---|');
  console.log(
    `| \`dump --native\` whole command, ms (median of ${RUNS}, run in turn) | ${ms(cmdSpyglass)} | ${ms(cmdPyspy)} | ${ms(cmdPystack)} |`,
  );
  console.log(
    `| \`dump --native\` first run (empty cache directory: no code cache, no native index), ms (median of ${FIRST_RUNS}) | ${firstRuns.length ? pct(firstRuns, 50).toFixed(0) : 'failed'} | | |`,
  );
  console.log(
    `| pause per reading: each of the 4 threads stopped, ms median / p99 (${r.failures} of ${PAUSES} not stopped within 2 s) | ${pct(r.pauses, 50).toFixed(2)} / ${pct(r.pauses, 99).toFixed(2)} | | |`,
  );
  console.log(`| thread readings merged | ${r.merged} of ${r.threads} (${((100 * r.merged) / r.threads).toFixed(2)}%) | | |`);
  const lastLine = (s: string) => s.trim().split('\n').filter(Boolean).at(-1) ?? '';
  console.log(
    `| \`record --native -r 250 -d 5\`: what it says; CPU s | ${ours.err.split('\n')[0]}; ${ours.cpu.toFixed(2)} CPU s | ${theirs ? `${lastLine(theirs.err).slice(0, 120)}; ${theirs.cpu.toFixed(2)} CPU s` : 'not installed'} | |`,
  );
} finally {
  await target.stop();
}

console.log(
  '\n| interpreter | thread readings merged (busy target, 4 threads x 30 frames) | gdb frames (normal and signal) found by address, target parked in qsort -> Python -> sleep |',
);
console.log('|---|---|---|');
const haveGdb = spawnSync('gdb', ['--version']).status === 0;
for (const py of discoverPythons()) {
  const busy = await startTarget(py, BUSY, ['4', '30'], { notChild: true });
  let merged: string;
  try {
    const r = await readings(busy.pid, MERGE_READINGS);
    merged = `${r.merged} of ${r.threads} (${((100 * r.merged) / r.threads).toFixed(2)}%)`;
  } finally {
    await busy.stop();
  }
  let gdb = 'gdb not installed';
  if (haveGdb) {
    const parked = await startTarget(py, join(TARGETS_DIR, 'native_qsort.py'), [], { notChild: true });
    try {
      gdb = await gdbAgreement(parked.pid);
    } finally {
      await parked.stop();
    }
  }
  console.log(`| ${py.label} | ${merged} | ${gdb} |`);
}
