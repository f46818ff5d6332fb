// --blocking: stops only the threads that run Python (not every thread of the process,
// which can freeze a process with hundreds of native threads for milliseconds), reads
// one sample, and lets them go. Bounded by a deadline, and every seized thread is
// detached on every path. Uses the ptrace wrapper of attach/ (PTRACE_SEIZE + INTERRUPT).
import { PtraceError, StopTimeoutError, Tracee, TraceeExitedError } from '../proc/ptrace.js';
import { PermissionError } from '../errors.js';

/** How long all threads together may take to stop before the sample is given up. */
export const PAUSE_DEADLINE_MS = 200;

export class PauseFailedError extends Error {
  constructor(why: string) {
    super(`could not pause the target: ${why}`);
    this.name = 'PauseFailedError';
  }
}

/**
 * Runs fn while the given threads are stopped. A thread that exits meanwhile is simply
 * not paused; a thread that will not stop in time fails the sample with PauseFailedError
 * (counted as a sampling error by the caller); no permission to ptrace is a PermissionError.
 */
export async function whilePaused<T>(pid: number, tids: number[], fn: () => T, deadlineMs = PAUSE_DEADLINE_MS): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  const seized: Array<{ tracee: Tracee; pendingSignal: number }> = [];
  try {
    for (const tid of tids) {
      try {
        seized.push(await Tracee.seize(tid, deadline));
      } catch (e) {
        if (e instanceof TraceeExitedError || (e instanceof PtraceError && e.errno === 3 /* ESRCH: gone */)) continue;
        if (e instanceof StopTimeoutError) throw new PauseFailedError(`thread ${tid} did not stop within ${deadlineMs} ms`);
        if (e instanceof PtraceError && e.errno === 1 /* EPERM */) throw new PermissionError(pid, 'pause (ptrace, for --blocking)');
        throw e;
      }
    }
    return fn();
  } finally {
    for (const s of seized) s.tracee.detach(s.pendingSignal);
  }
}
