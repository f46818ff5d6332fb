// What CPython 3.14's remote execution protocol (PEP 768) needs to know of the target's
// layout, from its own _Py_DebugOffsets: where the per-thread debugger_support fields are,
// the eval-breaker bit that makes a thread look at them, and which thread state a request
// for a given thread goes to (docs/pep768.md). The protocol's writes are attach/pep768.ts.
import { parseDebugOffsets } from './layouts/debug-offsets.js';

/** _PY_EVAL_PLEASE_STOP_BIT: makes the eval loop call _Py_HandlePending, which runs the script last */
export const PLEASE_STOP_BIT = 1n << 5n;

export interface RemoteDebugOffsets {
  interpretersHead: number;
  threadsHead: number;
  threadsMain: number;
  tstateNext: number;
  nativeThreadId: number;
  evalBreaker: number;
  remoteDebuggerSupport: number;
  remoteDebuggingEnabled: number;
  debuggerPendingCall: number;
  debuggerScriptPath: number;
  debuggerScriptPathSize: number;
}

/** What reading the target needs (ProcessMemory fits). */
export interface TargetMemory {
  read(addr: bigint, len: number): Buffer;
  write(addr: bigint, data: Buffer): void;
}

/** The protocol's offsets from a _Py_DebugOffsets buffer; undefined before 3.14 (no debugger_support). */
export function remoteDebugOffsets(debugOffsets: Buffer): RemoteDebugOffsets | undefined {
  const f = parseDebugOffsets(debugOffsets).fields;
  const need = [
    'runtime_state.interpreters_head',
    'interpreter_state.threads_head',
    'interpreter_state.threads_main',
    'thread_state.next',
    'thread_state.native_thread_id',
    'debugger_support.eval_breaker',
    'debugger_support.remote_debugger_support',
    'debugger_support.remote_debugging_enabled',
    'debugger_support.debugger_pending_call',
    'debugger_support.debugger_script_path',
    'debugger_support.debugger_script_path_size',
  ];
  if (need.some((n) => f.get(n) === undefined)) return undefined;
  const v = (n: string) => f.get(n)!;
  return {
    interpretersHead: v('runtime_state.interpreters_head'),
    threadsHead: v('interpreter_state.threads_head'),
    threadsMain: v('interpreter_state.threads_main'),
    tstateNext: v('thread_state.next'),
    nativeThreadId: v('thread_state.native_thread_id'),
    evalBreaker: v('debugger_support.eval_breaker'),
    remoteDebuggerSupport: v('debugger_support.remote_debugger_support'),
    remoteDebuggingEnabled: v('debugger_support.remote_debugging_enabled'),
    debuggerPendingCall: v('debugger_support.debugger_pending_call'),
    debuggerScriptPath: v('debugger_support.debugger_script_path'),
    debuggerScriptPathSize: v('debugger_support.debugger_script_path_size'),
  };
}

const u64 = (mem: TargetMemory, addr: bigint) => mem.read(addr, 8).readBigUInt64LE(0);

/** Where a request goes: the main interpreter's state (0n: none yet), its switch, the thread state (0n: none). */
export interface RemoteDebugTarget {
  interp: bigint;
  enabled: boolean;
  tstate: bigint;
}

/** The thread state of kernel thread `tid` (the main thread when omitted) and whether the interpreter accepts requests. */
export function remoteDebugTarget(mem: TargetMemory, pyRuntime: bigint, o: RemoteDebugOffsets, tid?: number): RemoteDebugTarget {
  const interp = u64(mem, pyRuntime + BigInt(o.interpretersHead));
  if (interp === 0n) return { interp, enabled: false, tstate: 0n };
  const enabled = mem.read(interp + BigInt(o.remoteDebuggingEnabled), 4).readInt32LE(0) === 1;
  let tstate: bigint;
  if (tid === undefined) {
    tstate = u64(mem, interp + BigInt(o.threadsMain));
  } else {
    tstate = u64(mem, interp + BigInt(o.threadsHead));
    for (let n = 0; tstate !== 0n && n < 10000; n++) {
      if (u64(mem, tstate + BigInt(o.nativeThreadId)) === BigInt(tid)) break;
      tstate = u64(mem, tstate + BigInt(o.tstateNext));
    }
  }
  return { interp, enabled, tstate };
}
