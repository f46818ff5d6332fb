// What the sampler needs from a stack reader, kept small so the sampler and every
// output format can be developed and tested with synthetic samples, independent of how
// the frames were read (the out-of-process reader, a test fixture, a future core file).
import type { Tracee } from '../proc/ptrace.js';

/** One frame as read from the target: a Python frame, or (with --native) a native one. */
export interface Frame {
  /** 'native' for a C/C++ frame; a Python frame leaves it unset (the reader's shared frames) or says 'python' */
  kind?: 'python' | 'native';
  /** function name (co_qualname or co_name; the symbol of a native frame) */
  name: string;
  /** co_filename as the target sees it; a native frame's C/C++ source file, '' when its line is unknown */
  filename: string;
  /** a native frame's module file name (libc.so.6, libpython3.12.so.1.0, [vdso]) */
  module?: string;
  /** a native frame's address */
  address?: bigint;
  /** current line (a native frame's source line), 0 when unknown */
  line: number;
  /** co_firstlineno: the function's own line, used by --function; undefined when not read */
  firstLine?: number;
}

/** One Python thread at one sampling instant. */
export interface ThreadSample {
  /** the Python thread id (threading.get_ident()) */
  threadId: number;
  /** kernel TID when known */
  nativeTid?: number;
  /** threading name when known */
  name?: string;
  holdsGil: boolean;
  /** the OS reported the thread running (and its top frame is not a known wait) */
  active: boolean;
  /** innermost first */
  frames: Frame[];
  /** why this thread's sample is unusable (its native and Python stacks could not be merged): counted as an error and left out */
  error?: string;
  /** the reader could not read this stack as one consistent picture: dropped and counted, never profiled */
  torn?: string;
}

export interface SampleOptions {
  /**
   * kernel TID → scheduler state letter, read before the threads were paused (--blocking):
   * a paused thread never looks running, so idle detection must use these
   */
  threadStates?: Map<number, string>;
  /** the threads stopped for this sample (--blocking, --native): their registers can be read */
  paused?: Tracee[];
  /**
   * false: the sampler leaves idle threads out (no --idle), so a source may leave their
   * stacks unread: such a thread comes back inactive and with no frames
   */
  idle?: boolean;
  /** false: nothing shows thread names (a recording without --threads or a timeline), so they are not read */
  threadNames?: boolean;
}

/** A reader of one process's Python stacks. sample() throws when a read fails or tears. */
export interface SampleSource {
  readonly pid: number;
  sample(opts?: SampleOptions): ThreadSample[];
  /** kernel TIDs of the threads that have a Python thread state, for --blocking (undefined: pause every thread) */
  pythonTids?(): number[] | undefined;
  /** the source reads paused threads' registers (--native): the sampler must pause them for every sample */
  readonly needsPause?: boolean;
  /**
   * Called with what sample() returned, once the threads it read paused run again: work
   * that needs no pause (a native frame's source line, docs/native-unwinding.md §3).
   */
  afterPause?(samples: ThreadSample[]): void;
  /** what the source could not do, each said once (--native: a module that cannot be read); read before close() */
  notes?(): Iterable<string>;
  close(): void;
}

/** A thread sample that goes into the profile, with the process it came from. */
export interface ProcessSample {
  pid: number;
  thread: ThreadSample;
}
