// The sampler's source for record/top --native: each sample unwinds the paused Python
// threads' native stacks (the sampler pauses them: needsPause), reads their Python
// frames in the same pause, and merges the two (native/merge.ts). A thread whose stacks
// cannot be merged is counted as an error, never recorded half right. Inlined functions
// and source lines of native frames are looked up once the threads run again
// (afterPause), once per address: the first address of a compilation unit reads its
// debug information, which no paused thread should wait for.
import { isPlumbing, mergeStacks, type MixedFrame } from '../native/merge.js';
import { entryMarkers, pythonModules } from '../native/mixed-stacks.js';
import { NativeProcess } from '../native/native-process.js';
import type { NativeFrame } from '../native/types.js';
import type { RawStack } from '../native/unwind.js';
import { openReader } from '../reader/reader.js';
import { toThreadSample } from './source.js';
import { ThreadStates } from './thread-states.js';
import type { Frame, SampleOptions, SampleSource, ThreadSample } from './types.js';

export interface NativeSourceOptions {
  /** keep interpreter plumbing frames (--native-all) */
  all?: boolean;
}

function isNative(f: MixedFrame): f is NativeFrame {
  return 'kind' in f && f.kind === 'native';
}

export async function openNativeSource(pid: number, opts: NativeSourceOptions = {}): Promise<SampleSource> {
  const reader = await openReader(pid);
  let np: NativeProcess;
  try {
    np = new NativeProcess(pid);
    // unwind tables and symbols now, so that no sample pauses a thread while they load
    np.prepare();
    await np.prepareSymbols();
  } catch (e) {
    reader.close();
    throw e;
  }
  const states = new ThreadStates(pid);
  const modules = pythonModules(reader);
  // inlined functions are frames of their own in the profile too; plumbing inlined is dropped as the merge drops it
  const keep = opts.all ? undefined : (f: NativeFrame) => !isPlumbing(f, modules);
  let lastTids: number[] | undefined;
  /** the samples of the last sample() with their merged frames, finished in afterPause */
  let unfinished: Array<[ThreadSample, MixedFrame[]]> = [];
  const toFrame = (f: MixedFrame): Frame => {
    if (!isNative(f)) return f as Frame;
    return { kind: 'native', name: f.name, filename: f.file ?? '', line: f.line ?? 0, module: f.module, address: f.address };
  };
  return {
    pid,
    needsPause: true,
    sample(o: SampleOptions = {}): ThreadSample[] {
      unfinished = [];
      const raws = new Map<number, RawStack>();
      for (const t of o.paused ?? []) raws.set(t.tid, np.unwind(t.getRegs()));
      const dump = reader.sample({ activity: false, threadNames: o.threadNames !== false });
      const tids = dump.threads.map((t) => t.tid);
      const known = tids.filter((t): t is number => t !== undefined);
      lastTids = known.length === tids.length ? known : undefined;
      const threadStates = o.threadStates ?? states.read(known);
      return dump.threads.map((t) => {
        const s = toThreadSample(t, threadStates);
        const raw = t.tid !== undefined ? raws.get(t.tid) : undefined;
        // a thread left running (idle, and --idle not given) keeps its Python frames; the sampler drops it
        if (!raw) return s;
        const m = mergeStacks(t.frames, entryMarkers(reader, t.frames), np.symbolize(raw), { pythonModules: modules, all: opts.all });
        if (!m.merged) return { ...s, error: 'native and Python stacks not merged' };
        // inlined functions and lines are added in afterPause
        const out: ThreadSample = { ...s, frames: m.frames.map(toFrame) };
        unfinished.push([out, m.frames]);
        return out;
      });
    },
    afterPause(): void {
      const pending = unfinished;
      unfinished = [];
      for (const [sample, frames] of pending) sample.frames = np.expand(frames, { lines: true, keep }).map(toFrame);
    },
    pythonTids: () => lastTids,
    notes: () => np.notes,
    close: () => {
      states.close();
      np.close();
      reader.close();
    },
  };
}
