// CPython 3.14's remote execution protocol (PEP 768), written from TypeScript: three
// memory writes into a thread state ask that thread to run a script file at its next
// eval-breaker check (docs/pep768.md). No ptrace; the offsets come from the
// target's own _Py_DebugOffsets (parsed by the reader).
import { parseDebugOffsets } from '../reader/layouts/debug-offsets.js';

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

/** What the protocol needs from the memory of the target (ProcessMemory fits). */
export interface TargetMemory {
  read(addr: bigint, len: number): Buffer;
  write(addr: bigint, data: Buffer): void;
}

export class RemoteDebugUnavailableError extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'RemoteDebugUnavailableError';
  }
}

/** The protocol's offsets from a _Py_DebugOffsets buffer; undefined before 3.14 (no debugger_support). */
export function remoteDebugOffsets(debugOffsets: Buffer): RemoteDebugOffsets | undefined {
  const d = parseDebugOffsets(debugOffsets);
  const f = d.fields;
  const get = (name: string) => f.get(name);
  const need = [
    'runtime_state.interpreters_head', 'interpreter_state.threads_head', 'interpreter_state.threads_main', 'thread_state.next',
    'thread_state.native_thread_id', 'debugger_support.eval_breaker', 'debugger_support.remote_debugger_support',
    'debugger_support.remote_debugging_enabled', 'debugger_support.debugger_pending_call',
    'debugger_support.debugger_script_path', 'debugger_support.debugger_script_path_size',
  ];
  if (need.some((n) => get(n) === undefined)) return undefined;
  const v = (n: string) => get(n)!;
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

/**
 * Asks the thread with kernel id `tid` (the main thread when omitted) to run the script at
 * `scriptPath` — an absolute path in the target's mount namespace. Returns the thread
 * state written to. Throws RemoteDebugUnavailableError when the target has remote
 * debugging disabled (PYTHON_DISABLE_REMOTE_DEBUG, -X disable-remote-debug, or a
 * --without-remote-debug build) or the path does not fit.
 */
export function sendRemoteExec(mem: TargetMemory, pyRuntime: bigint, o: RemoteDebugOffsets, scriptPath: string, tid?: number): bigint {
  const path = Buffer.from(scriptPath + '\0', 'utf8');
  if (path.length > o.debuggerScriptPathSize) {
    throw new RemoteDebugUnavailableError(`script path is ${path.length - 1} bytes, the target accepts ${o.debuggerScriptPathSize - 1}`);
  }
  const interp = u64(mem, pyRuntime + BigInt(o.interpretersHead));
  if (interp === 0n) throw new RemoteDebugUnavailableError('the interpreter is not running (no interpreter state)');
  if (mem.read(interp + BigInt(o.remoteDebuggingEnabled), 4).readInt32LE(0) !== 1) {
    throw new RemoteDebugUnavailableError('remote debugging is disabled in the target');
  }
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
  if (tstate === 0n) throw new RemoteDebugUnavailableError(tid === undefined ? 'the target has no main thread state' : `thread ${tid} has no Python thread state`);

  // the order matters: the path must be complete before the flag says it is there, and
  // the flag set before the eval loop is told to look
  const support = tstate + BigInt(o.remoteDebuggerSupport);
  mem.write(support + BigInt(o.debuggerScriptPath), path);
  const one = Buffer.alloc(4);
  one.writeInt32LE(1, 0);
  mem.write(support + BigInt(o.debuggerPendingCall), one);
  const breakerAddr = tstate + BigInt(o.evalBreaker);
  const breaker = Buffer.alloc(8);
  breaker.writeBigUInt64LE(u64(mem, breakerAddr) | PLEASE_STOP_BIT, 0);
  mem.write(breakerAddr, breaker);
  return tstate;
}
