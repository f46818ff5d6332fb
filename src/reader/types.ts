// What reading a process's stacks produces. These plain shapes are shared by the reader,
// the dump/demo commands, the shell's `stack` command and the sampler; they carry no
// addresses the caller would need to understand.

export interface LocalVariable {
  name: string;
  /** a short repr: exact for None/bool/int/float/str/bytes, a summary for containers */
  value: string;
  /** true for the function's parameters (including *args and **kwargs) */
  argument: boolean;
}

export interface StackFrame {
  /** co_qualname on 3.11+ (e.g. `Worker.run`), co_name before */
  name: string;
  filename: string;
  /** 0 when unknown */
  line: number;
  /** co_firstlineno: the line of the function's `def` (record --function aggregates by it) */
  firstLine?: number;
  locals?: LocalVariable[];
  /** set when this frame could not be read (torn read, freed memory): the walk stopped here */
  error?: string;
}

export type ThreadActivity = 'idle' | 'active' | 'unknown';

export interface ThreadStack {
  /** id of the interpreter the thread belongs to (0 = main interpreter) */
  interpreterId: number;
  /** threading.get_ident() of the thread */
  threadId: number;
  /** kernel thread id (what top -H and /proc/PID/task show), when it could be found */
  tid?: number;
  /** threading.Thread name, when the thread is registered in threading */
  name?: string;
  holdsGil: boolean;
  /** from the kernel: running (R) or not */
  activity: ThreadActivity;
  /** innermost frame first */
  frames: StackFrame[];
  /** more frames than the depth limit; the rest were left out */
  truncated?: boolean;
  /**
   * With SampleOptions.entryMarkers, one flag per frame (same order): true when the frame
   * is the first one run by its own call of the evaluation loop (_PyEval_EvalFrameDefault),
   * which is how native and Python frames are merged (docs/native-unwinding.md §4).
   */
  entries?: boolean[];
}

export interface PythonInfo {
  version: string;
  build: 'shared' | 'static';
  executable: string;
  library?: string;
}

/** One reading of every thread of every interpreter. */
export interface StackDump {
  pid: number;
  python: PythonInfo;
  /** ids of the interpreters found, main first */
  interpreters: number[];
  threads: ThreadStack[];
}
