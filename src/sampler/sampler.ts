// The sampling loop shared by `record` and `top`: at Poisson-distributed instants, read
// every Python thread of the target (and of its child processes with --subprocesses),
// drop torn samples (counted), drop idle threads unless --idle and non-GIL threads with
// --gil, and hand what is kept to the caller. Never pauses the target unless --blocking.
import { readFileSync } from 'node:fs';
import { NotPythonError, PermissionError, ProcessGoneError, UserError } from '../errors.js';
import { MemoryReadError } from '../proc/memory.js';
import { hasExited, isExiting, listThreads, parseStat, processExists, processInfo } from '../proc/process.js';
import { descendants } from './children.js';
import { PAUSE_DEADLINE_MS, PauseFailedError, whilePaused } from '../proc/pause.js';
import { PoissonTimer, sleepUntil } from './timer.js';
import type { ProcessSample, SampleOptions, SampleSource, ThreadSample } from './types.js';
import { TornReadError, tornReason } from './validate.js';
import { nowMs } from '../clock.js';

export interface SamplerOptions {
  pid: number;
  /** samples per second */
  rate: number;
  /** stop after this many seconds (default: until aborted or the target exits) */
  durationSec?: number;
  /** keep idle threads */
  idle?: boolean;
  /** keep only threads holding the GIL */
  gil?: boolean;
  /** pause the Python threads while reading (ptrace) */
  blocking?: boolean;
  /** also sample child Python processes */
  subprocesses?: boolean;
  /** the target is starting up (launch mode): wait for its interpreter instead of failing */
  waitForInterpreter?: boolean;
  openSource: (pid: number) => SampleSource | Promise<SampleSource>;
  /** aborting ends the recording (Ctrl-C, the launched program exiting) */
  signal?: AbortSignal;
  onTick?: (tick: Tick) => void;
  /** a process joined the sampling (the root first) */
  onProcess?: (pid: number, cmdline: string) => void;
  /**
   * Longest stretch between two turns of the event loop (timer.ts), default
   * EVENT_LOOP_SLICE_MS: what reacts to keys (top) wants it short; a recording, whose
   * every turn costs CPU, can wait longer.
   */
  eventLoopSliceMs?: number;
  /** false: the samples' threads need no names (read from the target's threading module otherwise) */
  threadNames?: boolean;
}

export interface Tick {
  /** seconds since sampling started */
  time: number;
  /** thread samples that passed the filters */
  kept: ProcessSample[];
  /** every thread read at this instant, before filtering (top's statistics) */
  read: ProcessSample[];
}

export interface SamplerStats {
  /** seconds sampled */
  elapsed: number;
  ticks: number;
  /** thread samples kept */
  samples: number;
  /** samples dropped because a read failed or tore */
  errors: number;
  /** error counts by reason */
  errorKinds: Map<string, number>;
  /** sampling instants skipped because the sampler fell behind */
  behind: number;
  /** processes sampled so far */
  processes: number;
  /** the root process exited during the recording */
  targetExited: boolean;
  /** the sources' notes, each once (--native: a module that cannot be read), gathered as each source closes */
  notes: Set<string>;
}

const CHILD_SCAN_MS = 1000;

function threadStates(pid: number): Map<number, string> {
  const states = new Map<number, string>();
  for (const tid of listThreads(pid)) {
    try {
      states.set(tid, parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')).state);
    } catch {
      /* the thread exited */
    }
  }
  return states;
}

export class Sampler {
  readonly opts: SamplerOptions;
  readonly stats: SamplerStats = {
    elapsed: 0,
    ticks: 0,
    samples: 0,
    errors: 0,
    errorKinds: new Map(),
    behind: 0,
    processes: 0,
    targetExited: false,
    notes: new Set(),
  };
  private readonly sources = new Map<number, SampleSource>();
  /** processes past start-up (an attached root from the first sample, the others once they
   * gave a good one): a failed read of a process still starting up is not an error */
  private readonly started = new Set<number>();
  /** every process sampled so far (one that exec()s another Python is opened again, counted once) */
  private readonly seen = new Set<number>();
  /** child processes that are not Python, by the executable they had then */
  private readonly notPython = new Map<number, string>();
  private timer: PoissonTimer;
  /** what every sample asks of the sources (one object for all) */
  private readonly sampleOpts: SampleOptions;
  /** --subprocesses: the executable the root had when it was last found not to be Python */
  private rootNotPythonExe?: string;

  constructor(opts: SamplerOptions) {
    if (!(opts.rate > 0)) throw new UserError(`the sampling rate must be above 0 (got ${opts.rate})`);
    this.opts = opts;
    this.sampleOpts = { idle: opts.idle ?? false, threadNames: opts.threadNames ?? true };
    this.timer = new PoissonTimer(opts.rate);
  }

  /** Opens the root process now so that a bad pid fails before anything else happens. */
  async openRoot(): Promise<void> {
    if (this.opts.waitForInterpreter) return;
    try {
      await this.addSource(this.opts.pid);
      // a process that was running before the recording is not starting up: a read that
      // fails or tears from the first sample on is an error (a recording of only torn
      // samples said 0 samples, 0 errors)
      this.started.add(this.opts.pid);
    } catch (e) {
      // --subprocesses from a process that is not Python (a shell script, a launcher):
      // its Python descendants are sampled, and it is looked at again now and then (run)
      if (!(this.opts.subprocesses && e instanceof NotPythonError)) throw e;
      this.rootNotPythonExe = exeOf(this.opts.pid);
    }
  }

  private async addSource(pid: number): Promise<void> {
    const src = await this.opts.openSource(pid);
    this.sources.set(pid, src);
    this.seen.add(pid);
    this.stats.processes = this.seen.size;
    let cmdline = '';
    try {
      cmdline = processInfo(pid).cmdline;
    } catch {
      /* it may have gone already; sampling notices */
    }
    this.opts.onProcess?.(pid, cmdline);
  }

  private error(kind: string): void {
    this.stats.errors++;
    this.stats.errorKinds.set(kind, (this.stats.errorKinds.get(kind) ?? 0) + 1);
  }

  private async scanChildren(): Promise<void> {
    for (const pid of descendants(this.opts.pid)) {
      if (this.sources.has(pid)) continue;
      let exe = '';
      let cmdline = '';
      try {
        ({ exe = '', cmdline } = processInfo(pid));
      } catch {
        continue;
      }
      // a forked child that later exec()s another program gets another look
      if (this.notPython.get(pid) === exe) continue;
      try {
        await this.addSource(pid);
        this.notPython.delete(pid);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        // one that may not be read (another user's, one that made itself undumpable) is
        // left out, and said so: it may be a Python process missing from the profile
        if (e instanceof PermissionError) this.stats.notes.add(`left out process ${pid} (${cmdline}): ${e.message}`);
        this.notPython.set(pid, exe);
      }
    }
  }

  /** Reads one process; returns undefined when the process has gone. */
  private async readProcess(pid: number, src: SampleSource): Promise<ThreadSample[] | undefined> {
    try {
      if (!this.opts.blocking && !src.needsPause) return src.sample(this.sampleOpts);
      // scheduler states must be read before pausing: a stopped thread never looks running
      const states = threadStates(pid);
      let tids = src.pythonTids?.() ?? [...states.keys()];
      // a sleeping thread that is paused wakes up (its system call restarts) and may still
      // be running at the next sample; without --idle it is left out anyway, so left alone
      if (!this.opts.idle) tids = tids.filter((tid) => states.get(tid) === 'R');
      const samples = await whilePaused(
        pid,
        tids,
        (paused) => src.sample({ ...this.sampleOpts, threadStates: states, paused }),
        PAUSE_DEADLINE_MS,
        src.needsPause ? 'pause the threads (ptrace, for --native) of' : undefined,
      );
      src.afterPause?.(samples);
      return samples;
    } catch (e) {
      if (e instanceof ProcessGoneError || !processExists(pid)) return undefined;
      if (e instanceof PermissionError) throw e;
      if (this.started.has(pid)) {
        if (e instanceof TornReadError) this.error('torn read');
        else if (e instanceof PauseFailedError) this.error('pause failed');
        else if (e instanceof MemoryReadError) this.error('unreadable memory');
        // not a race with the target: a bug, reported by name in the summary rather than
        // ending the recording and losing what was sampled
        else this.error(`${(e as Error).name}: ${(e as Error).message}`);
      }
      return [];
    }
  }

  private async tick(time: number): Promise<void> {
    const read: ProcessSample[] = [];
    const kept: ProcessSample[] = [];
    for (const [pid, src] of [...this.sources]) {
      const threads = await this.readProcess(pid, src);
      if (threads === undefined) {
        this.close(src);
        this.sources.delete(pid);
        this.started.delete(pid);
        // the memory read through the source is gone, the process is not: it exec()d
        // another program (os.execv, a launcher), which is opened afresh like a process
        // starting up (run, scanChildren) rather than taken for the process's end
        if (pid === this.opts.pid && isExiting(pid)) this.stats.targetExited = true;
        continue;
      }
      const torn = tornReason(threads);
      if (torn) {
        if (this.started.has(pid)) this.error(`torn (${torn})`);
        continue;
      }
      if (threads.length) this.started.add(pid);
      for (const thread of threads) {
        if (thread.error) {
          this.error(thread.error);
          continue;
        }
        if (thread.torn !== undefined) {
          if (this.started.has(pid)) this.error(`torn (${thread.torn})`);
          continue;
        }
        read.push({ pid, thread });
        if (thread.frames.length === 0) continue;
        if (!this.opts.idle && !thread.active) continue;
        if (this.opts.gil && !thread.holdsGil) continue;
        kept.push({ pid, thread });
      }
    }
    this.stats.ticks++;
    this.stats.samples += kept.length;
    this.opts.onTick?.({ time, kept, read });
  }

  /** Samples until aborted, the duration ends, or the target exits. Closes every source. */
  async run(): Promise<SamplerStats> {
    const start = nowMs();
    const end = this.opts.durationSec !== undefined ? start + this.opts.durationSec * 1000 : Infinity;
    let nextChildScan = start;
    const { signal } = this.opts;
    this.timer = new PoissonTimer(this.opts.rate);
    try {
      while (!signal?.aborted && !this.stats.targetExited) {
        const due = this.timer.advance();
        if (due >= end) {
          await sleepUntilOrAbort(end, signal, this.opts.eventLoopSliceMs);
          break;
        }
        await sleepUntilOrAbort(due, signal, this.opts.eventLoopSliceMs);
        if (signal?.aborted) break;
        const now = nowMs();
        const scanDue = this.opts.subprocesses && now >= nextChildScan;
        if (!this.sources.has(this.opts.pid)) {
          // launch mode: the interpreter appears some milliseconds after exec (as after
          // the root exec()s another program); a zombie will never have one
          if (hasExited(this.opts.pid)) {
            this.stats.targetExited = true;
            break;
          }
          // with --subprocesses a root found not to be Python is looked at again once per
          // scan or when it exec()s another program, its Python descendants sampled meanwhile
          const exe = this.opts.subprocesses ? exeOf(this.opts.pid) : undefined;
          if (!this.opts.subprocesses || scanDue || exe !== this.rootNotPythonExe) {
            try {
              await this.addSource(this.opts.pid);
              // the time spent waiting for the interpreter is not the sampler falling behind
              this.timer = new PoissonTimer(this.opts.rate);
            } catch (e) {
              if (!(e instanceof UserError) || e instanceof PermissionError) throw e;
              if (!this.opts.subprocesses) continue;
              this.rootNotPythonExe = exe;
            }
          }
        }
        if (scanDue) {
          await this.scanChildren();
          nextChildScan = now + CHILD_SCAN_MS;
        }
        await this.tick((now - start) / 1000);
      }
    } finally {
      this.stats.elapsed = (Math.min(nowMs(), end) - start) / 1000;
      this.stats.behind = this.timer.behind;
      for (const src of this.sources.values()) this.close(src);
      this.sources.clear();
    }
    return this.stats;
  }

  private close(src: SampleSource): void {
    for (const n of src.notes?.() ?? []) this.stats.notes.add(n);
    src.close();
  }
}

function exeOf(pid: number): string | undefined {
  try {
    return processInfo(pid).exe;
  } catch {
    return undefined; // gone: the loop notices
  }
}

/** sleepUntil that also wakes up early when the signal aborts during a long wait. */
async function sleepUntilOrAbort(deadline: number, signal?: AbortSignal, sliceMs?: number): Promise<void> {
  while (!signal?.aborted) {
    const rem = deadline - nowMs();
    if (rem <= 0) return;
    // long waits (low rates, the last stretch before --duration ends) are cut in slices
    await sleepUntil(nowMs() + Math.min(rem, 200), sliceMs);
  }
}
