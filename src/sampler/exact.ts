// `dump`'s exact read: the stacks are read without stopping anything, and only a thread
// whose stack kept changing faster than the reader's retries (ThreadStack.torn) is read
// again while that one thread is paused (ptrace, for the microseconds of one read, then
// resumed on every path by whilePaused). py-spy pauses every thread for every read by
// default; here the common case pauses nothing (docs/stack-consistency.md).
import { PermissionError } from '../errors.js';
import type { PythonReader, SampleOptions } from '../reader/reader.js';
import type { StackDump } from '../reader/types.js';

/**
 * Pauses of one thread before it is left marked torn: a thread stopped halfway through
 * a call or a return (its top frame pushed but not marked running yet) reads torn even
 * while still, and is let go to move on a little first.
 */
const PAUSE_ATTEMPTS = 3;

export interface ExactOptions extends SampleOptions {
  /** never pause: a torn thread stays marked torn (--nonblocking) */
  nonblocking?: boolean;
  /** told once when ptrace is not permitted, then the dump goes on without pausing */
  onNoPermission?: (e: PermissionError) => void;
}

/** One reading of every thread, each either exact or marked torn. */
export async function readExact(reader: PythonReader, opts: ExactOptions = {}): Promise<StackDump> {
  const dump = reader.sample(opts);
  if (opts.nonblocking || dump.threads.every((t) => t.torn === undefined)) return dump;
  // ptrace (and the FFI under it) loads only when a thread needs pausing
  const { PauseFailedError, whilePaused } = await import('../proc/pause.js');
  for (const [i, t] of dump.threads.entries()) {
    if (t.torn === undefined || t.tid === undefined) continue;
    for (let attempt = 0; attempt < PAUSE_ATTEMPTS; attempt++) {
      let again: StackDump;
      try {
        again = await whilePaused(reader.pid, [t.tid], () => reader.sample({ ...opts, activity: false }));
      } catch (e) {
        if (e instanceof PermissionError) {
          opts.onNoPermission?.(e);
          return dump;
        }
        if (e instanceof PauseFailedError) break; // it would not stop in time: stays torn
        throw e;
      }
      const same = again.threads.find((x) => x.tid === t.tid && x.threadId === t.threadId);
      if (!same) break; // it ended meanwhile
      if (same.torn === undefined) {
        // its scheduler state as it was before the pause (a paused thread never looks running)
        dump.threads[i] = { ...same, activity: t.activity, name: t.name };
        break;
      }
    }
  }
  return dump;
}
