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
  /** co_qualname on 3.11+ (e.g. `Worker.run`), co_name before, as py-spy names frames (docs/frame-names.md) */
  name: string;
  filename: string;
  /** 0 when unknown */
  line: number;
  /** co_firstlineno: the line of the function's `def` (record --function aggregates by it) */
  firstLine?: number;
  locals?: LocalVariable[];
  /**
   * 3.11+: the first frame a C call into the eval loop pushed (3.11's is_entry; on 3.12+
   * the frame just above a C-stack shim). Between two such frames the C stack holds one
   * eval-loop activation, which is where native unwinding splices C frames in. Absent
   * before 3.11, where every Python frame has an eval-loop call of its own.
   */
  entry?: boolean;
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
  /** an idle thread whose stack was left unread (the reader's walkIdle option): `frames` is empty */
  notRead?: boolean;
  /** more frames than the depth limit; the rest were left out */
  truncated?: boolean;
  /**
   * Why the stack could not be read as one consistent picture (the thread kept changing
   * it faster than it was read, within the reader's retries): `frames` are then what the
   * last attempt read, possibly cut short or mixed. Absent when the stack is exact.
   */
  torn?: string;
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
