// What the sampler needs from a stack reader, kept small so the sampler and every
// output format can be developed and tested with synthetic samples, independent of how
// the frames were read (the out-of-process reader, a test fixture, a future core file).

/** One Python frame as read from the target. */
export interface Frame {
  /** function name (co_qualname or co_name) */
  name: string;
  /** co_filename as the target sees it */
  filename: string;
  /** current line, 0 when unknown */
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
  /** the reader could not read this stack as one consistent picture: dropped and counted, never profiled */
  torn?: string;
}

export interface SampleOptions {
  /**
   * kernel TID → scheduler state letter, read before the threads were paused (--blocking):
   * a paused thread never looks running, so idle detection must use these
   */
  threadStates?: Map<number, string>;
}

/** A reader of one process's Python stacks. sample() throws when a read fails or tears. */
export interface SampleSource {
  readonly pid: number;
  sample(opts?: SampleOptions): ThreadSample[];
  /** kernel TIDs of the threads that have a Python thread state, for --blocking (undefined: pause every thread) */
  pythonTids?(): number[] | undefined;
  close(): void;
}

/** A thread sample that goes into the profile, with the process it came from. */
export interface ProcessSample {
  pid: number;
  thread: ThreadSample;
}
