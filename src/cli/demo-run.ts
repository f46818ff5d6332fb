// `spyglass demo`: the main jobs on a bundled sample service (examples/sample_service.py)
// started with a Python found on this machine: its thread stacks as `dump` shows them, a
// short profile with `record`'s engine (a flame graph and the top functions), a `watch` of
// one of its functions through the agent, as the shell runs it; then the service is stopped.
// Each step's failure is one line and the next step still runs; the service is stopped
// whatever happens (Ctrl-C, an error, the demo's own exit).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { attach } from '../attach/attach.js';
import { renderStackText } from '../commands/render-stack.js';
import type { CommandOutput } from '../commands/types.js';
import { EXAMPLES_DIR } from '../paths.js';
import { stopSignal, wasInterrupted } from '../run-end.js';
import { parseStat } from '../proc/process.js';
import { openReader } from '../reader/reader.js';
import { SUPPORTED_MINORS } from '../reader/layouts/index.js';
import { cachedShortener } from '../sampler/filenames.js';
import { recordProfile, summarizeRecording } from '../record/record.js';
import { openPythonSource } from '../sampler/source.js';
import { TopStats } from '../sampler/top-stats.js';
import type { SampleSource } from '../sampler/types.js';
import { tornReason } from '../sampler/validate.js';
import { runOneShot } from '../shell/oneshot.js';

const READY_TIMEOUT_MS = 30000;
const PROFILE_SECONDS = 2;
const PROFILE_RATE = 100;
const TOP_FUNCTIONS = 3;
const ATTACH_TIMEOUT_MS = 5000;
/** the workers price several orders a second: 3 calls come well within this */
const WATCH_TIMEOUT_MS = 10000;
/** a function of the sample service that runs all the time, on two worker threads */
const WATCH_LINE = 'watch __main__ price_order --expr args,return_obj -n 3';

/** python3 on PATH first, then pyenv's newest, then the system one; resolved to the real executable. */
export function findPython(): string {
  const candidates: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, 'python3'));
  const pyenv = '/root/.pyenv/versions';
  if (existsSync(pyenv)) {
    for (const v of readdirSync(pyenv).sort((a, b) => b.localeCompare(a, undefined, { numeric: true }))) {
      const m = /^3\.(\d+)\.\d+$/.exec(v);
      if (m) candidates.push(join(pyenv, v, 'bin', `python3.${m[1]}`));
    }
  }
  candidates.push('/usr/bin/python3');
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    try {
      const [minor, exe] = execFileSync(c, ['-c', 'import sys;print(sys.version_info[1]);print(sys.executable)'], {
        encoding: 'utf8',
        timeout: 10000,
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .trim()
        .split('\n');
      if (sys3(minor) && exe) return exe;
    } catch {
      // not runnable: try the next
    }
  }
  throw new UserError('no supported Python found for the demo', `install CPython 3.${SUPPORTED_MINORS[0]} or later as python3 on PATH`);
}

function sys3(minor: string): boolean {
  return SUPPORTED_MINORS.includes(Number(minor));
}

/** Resolves once the sample service printed READY; rejects (UserError) when it exits first, is too slow, or the demo is interrupted. */
function serviceReady(child: ChildProcess, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (e: UserError) => {
      clearTimeout(timer);
      reject(e);
    };
    const timer = setTimeout(
      () => fail(new UserError(`the sample service did not start within ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    // Ctrl-C: 130; stdout's reader leaving is no failure
    signal.addEventListener(
      'abort',
      () => fail(new UserError('interrupted while the sample service was starting', undefined, wasInterrupted() ? 130 : 0)),
      { once: true },
    );
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (/^READY/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => fail(new UserError(`cannot start the sample service: ${e.message}`)));
    child.on('exit', (code) =>
      fail(new UserError(`the sample service exited (code ${code}) before it was ready: ${err.trim().split('\n').pop() ?? ''}`)),
    );
  });
}

/**
 * Kills the service if it is still this process's child. Its exitCode cannot tell: while
 * attach ptrace-stops the service, libuv's SIGCHLD handler may take the stop report for
 * an exit (node then sets exitCode 0 on a running process). A pid whose parent is this
 * process is the service until it is reaped: nothing else is spawned after it.
 */
function stopService(child: ChildProcess): void {
  try {
    if (parseStat(readFileSync(`/proc/${child.pid}/stat`, 'utf8')).ppid === process.pid) process.kill(child.pid!, 'SIGKILL');
  } catch {
    // gone and reaped already
  }
}

async function showStacks(pid: number, out: CommandOutput): Promise<void> {
  const reader = await openReader(pid);
  try {
    out.line(renderStackText(reader.sample()).trimEnd());
  } finally {
    reader.close();
  }
}

/**
 * The record engine's sample source, counting on the side each function's own time as
 * `top` does (only what the sampler keeps: readable samples of threads running Python).
 */
function countingOwnTime(stats: TopStats): (pid: number) => Promise<SampleSource> {
  return async (pid) => {
    const source = await openPythonSource(pid);
    return {
      ...source,
      sample(opts) {
        const threads = source.sample(opts);
        if (!tornReason(threads)) {
          const read = threads.map((thread) => ({ pid, thread }));
          stats.add({ time: 0, read, kept: read.filter((s) => s.thread.active && s.thread.frames.length > 0) });
        }
        return threads;
      },
    };
  };
}

async function profile(pid: number, dir: string, signal: AbortSignal, out: CommandOutput): Promise<void> {
  const stats = new TopStats(PROFILE_RATE, cachedShortener(`/proc/${pid}/root`));
  const r = await recordProfile({
    pid,
    format: 'flamegraph',
    output: join(dir, 'flamegraph.html'),
    rate: PROFILE_RATE,
    durationSec: PROFILE_SECONDS,
    signal,
    openSource: countingOwnTime(stats),
  });
  for (const l of summarizeRecording(r)) out.line(l);
  const rows = stats.rows('ownTime', TOP_FUNCTIONS);
  if (!rows.length) return;
  out.line(`top ${rows.length} functions by own time (where the CPU was when sampled):`);
  rows.forEach((row, i) =>
    out.line(`  ${i + 1}. ${row.name} (${row.file})  ${row.ownTime.toFixed(2)} s, ${row.ownPct.toFixed(0)}% of the samples`),
  );
}

async function watchCalls(pid: number, out: CommandOutput): Promise<void> {
  const session = await attach(pid, { timeoutMs: ATTACH_TIMEOUT_MS });
  try {
    out.line(
      `attached (agent ${session.how === 'reused' ? 'already running' : 'started'} in ${session.latencyMs} ms); running \`${WATCH_LINE}\`:`,
    );
    await runOneShot({ pid, agent: session.agent, out, line: WATCH_LINE, timeoutMs: WATCH_TIMEOUT_MS, lost: session.lost });
  } finally {
    await session.detach();
  }
  out.line('detached: the hook is removed and the service runs as before');
}

export interface DemoOptions {
  /** where the flame graph goes (default: a new temporary directory) */
  dir?: string;
}

/** Runs the demo; resolves with the number of steps that failed. */
export async function runDemo(out: CommandOutput, opts: DemoOptions = {}): Promise<number> {
  const python = findPython();
  const script = join(EXAMPLES_DIR, 'sample_service.py');
  const dir = opts.dir ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), 'spyglass-demo-'));
  mkdirSync(dir, { recursive: true });
  // Ctrl-C (or stdout's reader leaving) ends the step under way and skips the rest; a second
  // Ctrl-C quits at once. The service goes with the demo in every case, a crash included.
  const interrupted = stopSignal();
  const child = spawn(python, ['-u', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  const onExit = () => stopService(child);
  process.on('exit', onExit);
  let failed = 0;
  const step = async (what: string, title: string, run: () => Promise<void>) => {
    if (interrupted.signal.aborted) return;
    out.line(`\n== ${title}\n`);
    try {
      await run();
    } catch (e) {
      failed++;
      out.line(`spyglass demo: ${what} failed: ${(e as Error).message}`);
    }
  };
  try {
    await serviceReady(child, interrupted.signal);
    out.line(`spyglass demo: started ${script} with ${python} (pid ${pid})`);
    await step('the stacks', `its threads, read from outside (spyglass dump ${pid})`, () => showStacks(pid, out));
    await step('the profile', `a ${PROFILE_SECONDS} s profile (spyglass record --pid ${pid} -d ${PROFILE_SECONDS})`, () =>
      profile(pid, dir, interrupted.signal, out),
    );
    await step('the watch', `3 calls of one function, from inside (spyglass ${pid}, then watch)`, () => watchCalls(pid, out));
  } finally {
    stopService(child);
    interrupted.dispose();
    process.off('exit', onExit);
  }
  if (interrupted.signal.aborted) {
    // main exits 130 after Ctrl-C, 0 when the reader of stdout left
    out.line(`\nspyglass demo: interrupted; stopped the sample service (pid ${pid}).`);
    return 0;
  }
  out.line(`\n== stopped the sample service (pid ${pid}). Next, on your own Python process (\`spyglass ps\` lists them):`);
  out.line('  spyglass PID                     attach and open the shell (watch, trace, tt, console, ...; `help` lists them)');
  out.line('  spyglass record --pid PID -d 30  a 30 s flame graph, nothing injected');
  out.line('  spyglass top PID                 live top functions');
  return failed;
}
