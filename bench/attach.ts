// Benchmark of attach latency: from the start of attach(pid) to a connected agent that
// answered the handshake, median over fresh targets (each run attaches to a new process,
// so every run injects), on an idle target (main thread in time.sleep) and a CPU-bound one,
// for every installed interpreter; and what one injection of an empty payload costs the
// idle target's main thread (the ptrace steps alone, no agent). Then, on 3.11.7, the whole one-shot command
// `spyglass PID --cmd stack` side by side with the reference tool's `flight_profiler PID
// --cmd stack`, same targets, same run (the reference tool is pip-installed into a
// throwaway virtualenv, /tmp/bench-venv-fp; skipped with a note when that fails).
// Run with
//   npm run build && env -u NODE_EXTRA_CA_CERTS node dist/bench/attach.js [runs]
// and copy the tables it prints into BENCHMARKS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { attach } from '../src/attach/attach.js';
import { injectPython } from '../src/attach/inject.js';
import { locatePython } from '../src/reader/locate.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { discoverPythons } from '../test/helpers/pythons.js';
import { startTarget } from '../test/helpers/targets.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'bin', 'spyglass.js');
const VENV = '/tmp/bench-venv-fp';
const VENV_BASE = '/root/.pyenv/versions/3.11.7/bin/python3.11';
const CASES = [
  { label: 'idle (time.sleep)', script: 'attach_sleep.py', args: ['3600'] },
  { label: 'CPU-bound', script: 'attach_cpu.py', args: [] },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** attach() latency on `runs` fresh targets; also which strategies were used. */
async function attachLatency(python: string, c: (typeof CASES)[number], runs: number): Promise<{ ms: number[]; hows: Set<string> }> {
  const ms: number[] = [];
  const hows = new Set<string>();
  for (let i = 0; i < runs; i++) {
    const target = await startTarget(python, c.script, c.args, { notChild: true, readyTimeoutMs: 60000 });
    try {
      const s = await attach(target.pid, { timeoutMs: 10000 });
      ms.push(s.latencyMs);
      hows.add(s.how);
      await s.detach();
    } finally {
      await target.stop();
    }
  }
  return { ms, hows };
}

/** injectPython('pass') on one idle target, `runs` times: its wall time and how long the main thread was stopped. */
async function injectionCost(python: string, runs: number): Promise<{ totalMs: number[]; stoppedMs: number[]; hows: Set<string> }> {
  const c = CASES[0];
  const target = await startTarget(python, c.script, c.args, { notChild: true, readyTimeoutMs: 60000 });
  const totalMs: number[] = [];
  const stoppedMs: number[] = [];
  const hows = new Set<string>();
  try {
    const located = await locatePython(target.pid);
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = await injectPython(located, 'pass', { deadline: Date.now() + 5000, expiresAt: Date.now() + 5000 });
      totalMs.push(performance.now() - t0);
      stoppedMs.push(r.stoppedMs);
      hows.add(r.strategy);
      await new Promise((res) => setTimeout(res, 50));
    }
  } finally {
    await target.stop();
  }
  return { totalMs, stoppedMs, hows };
}

/** Wall time of a whole one-shot command against `runs` fresh targets started with `python`. */
async function oneShot(python: string, c: (typeof CASES)[number], runs: number, argv: (pid: number) => string[]): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const target = await startTarget(python, c.script, c.args, { notChild: true, readyTimeoutMs: 60000 });
    try {
      const [cmd, ...args] = argv(target.pid);
      const t0 = performance.now();
      const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60000 });
      const took = performance.now() - t0;
      if (r.status !== 0 || !/attach_(sleep|cpu)\.py/.test(r.stdout))
        throw new Error(`${cmd} failed (${r.status}): ${(r.stderr || r.stdout).slice(-300)}`);
      ms.push(took);
    } finally {
      await target.stop();
    }
  }
  return ms;
}

/** The reference tool in a throwaway virtualenv, or why it is not there. */
function referenceTool(): { python: string; cli: string } | string {
  const cli = join(VENV, 'bin', 'flight_profiler');
  if (!existsSync(cli)) {
    try {
      if (!existsSync(VENV)) execFileSync(VENV_BASE, ['-m', 'venv', VENV], { stdio: 'ignore' });
      execFileSync(join(VENV, 'bin', 'pip'), ['install', '-q', 'flight_profiler'], { stdio: 'ignore', timeout: 300000 });
    } catch (e) {
      return `pip install flight_profiler failed (${(e as Error).message.split('\n')[0]})`;
    }
  }
  // the reference tool needs the target to run with the interpreter it is installed for
  return { python: join(VENV, 'bin', 'python'), cli };
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 7);
  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; node ${process.version}; ${execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim()}; load average ${loadavg()[0].toFixed(1)} at start`,
  );
  console.log(`\nattach() latency, command start to agent ready, median of ${runs} fresh targets (min-max)\n`);
  console.log(`| Python | ${CASES.map((c) => c.label).join(' | ')} |`);
  console.log(`|---|${CASES.map(() => '---|').join('')}`);
  for (const py of discoverPythons()) {
    const cells: string[] = [];
    for (const c of CASES) {
      const { ms, hows } = await attachLatency(py.path, c, runs);
      cells.push(`${median(ms).toFixed(0)} ms (${Math.min(...ms)}-${Math.max(...ms)}; ${[...hows].join('/')})`);
    }
    console.log(`| ${py.label} | ${cells.join(' | ')} |`);
  }

  console.log(`\none injection of an empty payload on an idle target (the ptrace steps alone), median of ${runs}\n`);
  console.log('| Python | injectPython wall time | main thread stopped |');
  console.log('|---|---|---|');
  for (const py of discoverPythons()) {
    const { totalMs, stoppedMs, hows } = await injectionCost(py.path, runs);
    console.log(
      `| ${py.label} | ${median(totalMs).toFixed(1)} ms (${[...hows].join('/')}) | ${median(stoppedMs).toFixed(0)} ms (max ${Math.max(...stoppedMs)}) |`,
    );
  }

  const ref = referenceTool();
  console.log(
    `\nwhole one-shot command \`--cmd stack\` (process start to exit), median of ${runs} fresh targets, Python 3.11.7 (load average ${loadavg()[0].toFixed(1)})\n`,
  );
  console.log('| target | spyglass PID --cmd stack | flight_profiler PID --cmd stack |');
  console.log('|---|---|---|');
  for (const c of CASES) {
    const ours = await oneShot(VENV_BASE, c, runs, (pid) => [process.execPath, CLI, String(pid), '--cmd', 'stack']);
    let theirs = 'not measured: ' + ref;
    if (typeof ref !== 'string') {
      try {
        theirs = `${median(await oneShot(ref.python, c, runs, (pid) => [ref.cli, String(pid), '--cmd', 'stack'])).toFixed(0)} ms`;
      } catch (e) {
        theirs = `failed: ${(e as Error).message.split('\n')[0]}`;
      }
    }
    console.log(`| ${c.label} | ${median(ours).toFixed(0)} ms | ${theirs} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
