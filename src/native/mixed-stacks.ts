// One reading of a process's Python and native stacks together (dump --native, the
// shell's stack --native): the Python threads are paused (never the others), their
// registers read and their native stacks unwound, their Python frames read, and they are
// let go; symbols and source lines are looked up after. The two are then merged per thread.
import { basename } from 'node:path';
import type { PythonReader, SampleOptions } from '../reader/reader.js';
import type { StackFrame } from '../reader/types.js';
import { UserError } from '../errors.js';
import { PauseFailedError, whilePaused } from '../proc/pause.js';
import { isPlumbing, mergeStacks } from './merge.js';
import type { NativeProcess } from './native-process.js';
import type { MixedStackDump, MixedThreadStack, NativeFrame } from './types.js';
import type { RawStack } from './unwind.js';

/** How long all Python threads together may take to stop for one reading. */
const DUMP_PAUSE_DEADLINE_MS = 2000;
/** readings tried when a thread is too slow to stop (a heavily loaded machine) */
const PAUSE_ATTEMPTS = 3;
const PTRACE_WHAT = 'pause the threads (ptrace, for --native) of';

export interface MixedOptions extends Pick<SampleOptions, 'locals'> {
  /** keep interpreter plumbing frames (--native-all) */
  all?: boolean;
}

/** Per frame: is it the first of its call of the evaluation loop? Every frame up to 3.10 (docs/native-unwinding.md §4). */
export function entryMarkers(reader: PythonReader, frames: StackFrame[]): boolean[] {
  return reader.layout.minor <= 10 ? frames.map(() => true) : frames.map((f) => f.entry === true);
}

/** The file names that hold the interpreter, whose plumbing the merge drops. */
export function pythonModules(reader: PythonReader): Set<string> {
  const t = reader.target;
  return new Set([basename(t.libPath ?? t.exePath), basename(t.exePath)]);
}

export async function readMixedStacks(reader: PythonReader, np: NativeProcess, opts: MixedOptions = {}): Promise<MixedStackDump> {
  // which threads are Python's, and how busy each is (a paused thread never looks running)
  const before = reader.sample({ threadNames: false });
  const activity = new Map(before.threads.map((t) => [t.tid, t.activity]));
  let tids = before.threads.flatMap((t) => (t.tid !== undefined ? [t.tid] : []));
  // every module's unwind tables before the pause (each costs about a file read), so that
  // no thread waits for them while stopped (docs/native-unwinding.md §5)
  np.prepare();
  const read = () =>
    whilePaused(
      reader.pid,
      tids,
      (paused) => {
        const raws = new Map<number, RawStack>();
        for (const t of paused) raws.set(t.tid, np.unwind(t.getRegs()));
        return { dump: reader.sample({ locals: opts.locals, activity: false }), raws };
      },
      DUMP_PAUSE_DEADLINE_MS,
      PTRACE_WHAT,
    );
  let reading: Awaited<ReturnType<typeof read>> | undefined;
  for (let attempt = 1; !reading; attempt++) {
    try {
      reading = await read();
    } catch (e) {
      if (!(e instanceof PauseFailedError)) throw e;
      // every thread was let go; a thread that was not scheduled in time gets another chance
      if (attempt >= PAUSE_ATTEMPTS)
        throw new UserError(`${e.message} (${PAUSE_ATTEMPTS} tries)`, 'the machine may be overloaded: try again');
      continue;
    }
    // A thread read while paused that the first look did not list (it started since, or
    // that look found the thread list being changed and stopped short of it: seen with
    // connections opening and closing) was not paused: its native stack would be missing.
    // Read again with it paused too.
    const unpaused = reading.dump.threads.flatMap((t) => (t.tid !== undefined && !reading!.raws.has(t.tid) ? [t.tid] : []));
    if (unpaused.some((tid) => !tids.includes(tid)) && attempt < PAUSE_ATTEMPTS) {
      tids = [...new Set([...tids, ...unpaused])];
      reading = undefined;
    }
  }
  const { dump, raws } = reading;
  await np.loadMiniDebugInfo(np.modulesOf(raws.values()));
  const modules = pythonModules(reader);
  const threads: MixedThreadStack[] = dump.threads.map((t) => {
    const out: MixedThreadStack = { ...t, activity: (t.tid !== undefined && activity.get(t.tid)) || t.activity };
    const raw = t.tid !== undefined ? raws.get(t.tid) : undefined;
    if (!raw) return out;
    const native = np.symbolize(raw);
    const m = mergeStacks(t.frames, entryMarkers(reader, t.frames), native, { pythonModules: modules, all: opts.all });
    // inlined frames of the evaluation loop went with it; plumbing inlined elsewhere goes too
    const keep = m.merged && !opts.all ? (f: NativeFrame) => !isPlumbing(f, modules) : undefined;
    const frames = np.expand(m.frames, { lines: true, keep });
    out.native = { frames, merged: m.merged, reason: m.reason, stopped: raw.stopped };
    return out;
  });
  return { ...dump, threads, notes: [...np.notes] };
}
