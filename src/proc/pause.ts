// Pausing some threads of a process for one reading (record --blocking, --native): only
// the threads that run Python (not every thread of the process, which can freeze a
// process with hundreds of native threads for milliseconds), and let go at once. Bounded
// by a deadline, and every seized thread is detached on every path. Uses the ptrace
// wrapper (PTRACE_SEIZE + INTERRUPT; docs/native-unwinding.md §5).
import { PtraceError, StopTimeoutError, Tracee, TraceeExitedError } from './ptrace.js';
import { PermissionError } from '../errors.js';
import { isExiting, threadState, tracerOf } from './process.js';

/** How long all threads together may take to stop before the sample is given up. */
export const PAUSE_DEADLINE_MS = 200;

export class PauseFailedError extends Error {
  constructor(why: string) {
    super(`could not pause the target: ${why}`);
    this.name = 'PauseFailedError';
  }
}

/**
 * Runs fn while the given threads are stopped, handing it the stopped threads (to read
 * their registers). Every thread is asked to stop before any is waited for, so the pause
 * is about as long as the slowest thread's. A thread that exits meanwhile is simply not
 * paused; a thread that will not stop in time fails the sample with PauseFailedError
 * (counted as a sampling error by the caller); no permission to ptrace is a
 * PermissionError naming `what`. Every stopped thread is let go on every path.
 */
export async function whilePaused<T>(
  pid: number,
  tids: number[],
  fn: (paused: Tracee[]) => T,
  deadlineMs = PAUSE_DEADLINE_MS,
  what = 'pause the threads (ptrace, for --blocking) of',
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  // once each: two thread states can name one thread (a new thread's state carries its
  // creator's ids until the thread itself starts: docs/stack-consistency.md), and a
  // second seize of a thread we trace already fails as if a debugger held it
  tids = [...new Set(tids)];
  // each seize issues PTRACE_SEIZE and PTRACE_INTERRUPT before its first await
  const results = await Promise.allSettled(tids.map((tid) => Tracee.seize(tid, deadline)));
  const seized = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      const e = r.reason;
      if (e instanceof TraceeExitedError || (e instanceof PtraceError && e.errno === 3) /* ESRCH: gone */) return;
      if (e instanceof StopTimeoutError) throw new PauseFailedError(`thread ${tids[i]} did not stop within ${deadlineMs} ms`);
      if (e instanceof PtraceError && e.errno === 1 /* EPERM */) {
        // the kernel refuses to seize a thread that has exited but is not reaped yet with
        // EPERM too (seen when a launched program ended during a --blocking sample)
        if (exited(pid, tids[i])) return;
        // a thread has one tracer at a time: a debugger there refuses us as surely
        const tracer = tracerOf(pid, tids[i]);
        throw new PermissionError(
          pid,
          what,
          tracer
            ? `thread ${tids[i]} is being traced by process ${tracer} (a debugger: gdb, strace, py-spy --native) and a thread has one tracer at a time; detach it first`
            : undefined,
        );
      }
      throw e;
    });
    return fn(seized.map((s) => s.tracee));
  } finally {
    for (const s of seized) s.tracee.detach(s.pendingSignal);
  }
}

/** Whether thread tid of pid has exited (a zombie, or gone), or the whole process is exiting. */
function exited(pid: number, tid: number): boolean {
  const state = threadState(pid, tid);
  return state === undefined || state === 'Z' || state === 'X' || isExiting(pid);
}
