// What gilstat needs from the out-of-process reader, kept small so the sampler can be
// built and tested on its own: where the GIL is, the Python threads (thread state, kernel
// TID, name) and one thread's Python stack at a given moment.
export interface StackFrame {
  name: string;
  filename: string;
  line: number;
}

export interface GilThread {
  tstate: bigint;
  /** kernel TID; undefined when it could not be mapped (then waits are not seen) */
  tid?: number;
  name: string;
}

export interface GilProbe {
  readonly pid: number;
  /** "3.11.7" */
  readonly version: string;
  /** address of the struct _gil_runtime_state the main interpreter uses */
  readonly gilAddr: bigint;
  /** fills buf with the GIL struct (one read) */
  readGil(buf: Buffer): void;
  threads(): GilThread[];
  /** innermost frame first; [] when the thread could not be read */
  stack(tstate: bigint): StackFrame[];
  close(): void;
}
