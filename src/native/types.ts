// The native frame as every consumer sees it (dump, the shell's stack, the sampler, the
// profile and its formats): a function name, the module that holds it and the address.

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
  /** the link to this frame was guessed by scanning the stack (the frame inside it had no unwind information) */
  guessed?: boolean;
}
