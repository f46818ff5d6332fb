// CPython 3.14's remote execution protocol (PEP 768), written from TypeScript: three
// memory writes into a thread state ask that thread to run a script file at its next
// eval-breaker check (docs/pep768.md). No ptrace; the offsets, and the thread state
// written to, come from the reader (reader/remote-debug.ts).
import { PLEASE_STOP_BIT, type RemoteDebugOffsets, remoteDebugTarget, type TargetMemory } from '../reader/remote-debug.js';

export class RemoteDebugUnavailableError extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'RemoteDebugUnavailableError';
  }
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
  const { interp, enabled, tstate } = remoteDebugTarget(mem, pyRuntime, o, tid);
  if (interp === 0n) throw new RemoteDebugUnavailableError('the interpreter is not running (no interpreter state)');
  if (!enabled) throw new RemoteDebugUnavailableError('remote debugging is disabled in the target');
  if (tstate === 0n)
    throw new RemoteDebugUnavailableError(
      tid === undefined ? 'the target has no main thread state' : `thread ${tid} has no Python thread state`,
    );

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
