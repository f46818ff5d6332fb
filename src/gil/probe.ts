// What gilstat needs from the out-of-process reader, kept small so the sampler can be
// built and tested on its own: where the GIL is, the Python threads (ident, kernel TID,
// name), which thread a holder's thread state belongs to, and one thread's Python stack
// at a given moment.
import type { StackFrame } from '../reader/types.js';

export type { StackFrame };

export interface GilThread {
  /** threading.get_ident() */
  ident: bigint;
  /** kernel TID; undefined when it could not be mapped (then its waits are not seen) */
  tid?: number;
  name: string;
  /** false while threading has no name for it (name is then a placeholder) */
  named: boolean;
}

export interface GilProbe {
  readonly pid: number;
  /** "3.11.7" */
  readonly version: string;
  /** address of the struct _gil_runtime_state the main interpreter uses */
  readonly gilAddr: bigint;
  /** fills buf with the GIL struct (one read) */
  readGil(buf: Buffer): void;
  /** recheckUnnamed: look up again now the names threading had not registered yet */
  threads(recheckUnnamed?: boolean): GilThread[];
  /** the ident of the thread whose thread state this is (last_holder points at one) */
  identOf(tstate: bigint): bigint | undefined;
  /** innermost frame first; [] when the thread could not be read */
  stack(ident: bigint): StackFrame[];
  close(): void;
}
