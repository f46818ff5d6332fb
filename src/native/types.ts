// The native frame as every consumer sees it (dump, the shell's stack, the sampler, the
// profile and its formats): a function name, the module that holds it and the address.
import type { StackDump, StackFrame, ThreadStack } from '../reader/types.js';

export interface NativeFrame {
  kind: 'native';
  /** the function (C++ names demangled), or `0x…` when no symbol covers the address */
  name: string;
  /** the module's file name (`libc.so.6`), `[vdso]`, or `?` outside any module */
  module: string;
  /** the module's full path as the target sees it */
  modulePath?: string;
  /** the instruction address (innermost frame) or return address (callers) */
  address: bigint;
  /** the source file and line of the address, when the module (or its debug file) has a line table */
  file?: string;
  line?: number;
  /** a function the compiler inlined into the frame below it: same address, no call of its own */
  inlined?: boolean;
  /** the link to this frame was guessed by scanning the stack (the frame inside it had no unwind information) */
  guessed?: boolean;
}

/** A thread's native side, next to its Python frames. */
export interface NativeStackInfo {
  /** innermost first: the merged stack, or the native frames alone when merged is false */
  frames: Array<NativeFrame | (StackFrame & { kind?: 'python' })>;
  merged: boolean;
  /** why the two stacks could not be merged */
  reason?: string;
  /** why the native walk ended before the outermost frame */
  stopped?: string;
}

export interface MixedThreadStack extends ThreadStack {
  /** set by --native: undefined when the thread could not be paused (it exited) */
  native?: NativeStackInfo;
}

/** A stack dump with native frames (dump --native, stack --native). */
export interface MixedStackDump extends StackDump {
  threads: MixedThreadStack[];
  /** things said once: a module that could not be read */
  notes: string[];
}
