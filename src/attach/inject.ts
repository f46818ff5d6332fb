// Runs a piece of Python source inside a CPython 3.8–3.13 process with ptrace (no gdb, no
// compiler, no helper binary). Only the main thread is stopped, for milliseconds; every
// register, the vector state and the patched scratch bytes are restored on every exit path,
// and a thread left borrowed by a spyglass that died puts itself back (self-restore.ts).
//
// Two ways to get the code run (docs/attach.md §3):
//  direct  — the main thread sleeps in a system call with the GIL released (time.sleep,
//            Event().wait(), socket.accept()): call PyGILState_Ensure / PyRun_SimpleString /
//            PyGILState_Release on it right away, then let the system call restart.
//  pending — the main thread runs Python (or waits for the GIL): queue
//            Py_AddPendingCall(PyRun_SimpleString, page); it runs at the thread's next
//            eval-breaker check, holding the GIL, within a few milliseconds.
import { ProcessGoneError, PermissionError, UserError } from '../errors.js';
import { ElfFile } from '../proc/elf.js';
import { ProcessMemory } from '../proc/memory.js';
import { listThreads, threadState, tracerOf } from '../proc/process.js';
import { gilLocked } from '../reader/gil.js';
import { mappedFilePath, type PythonTarget } from '../reader/locate.js';
import { readMaps } from '../proc/maps.js';
import { EPERM, ESRCH, PtraceError, type Regs, StopTimeoutError, Tracee, TraceeExitedError, type RegName } from '../proc/ptrace.js';
import {
  buildSignalFrame,
  CALL_AT,
  directRoutine,
  quietSignal,
  RESTART_CODES,
  SCRATCH,
  type SignalFrame,
  STOP_AT,
  SYSCALL_AT,
  tailRegisters,
} from './self-restore.js';

export type Strategy = 'direct' | 'pending';

export interface InjectResult {
  strategy: Strategy;
  /** the thread that was stopped */
  tid: number;
  /** how long that thread was stopped, in milliseconds */
  stoppedMs: number;
  /** why this strategy was chosen, for --debug and the tests */
  reason: string;
}

export interface InjectOptions {
  /** the whole injection (stop, calls, restore) must finish by then (ms since epoch) */
  deadline: number;
  /** a pending call that runs after this wall-clock time (ms since epoch) does nothing */
  expiresAt: number;
  /** for the tests: force one strategy where it is safe */
  strategy?: Strategy;
}

const SYS_MMAP = 9n;
const SYS_MPROTECT = 10n;
const SYS_MUNMAP = 11n;
const SYS_FUTEX = 202;
const PAGE = 4096;
const PROT_READ = 1n;
const PROT_WRITE = 2n;
const PROT_EXEC = 4n;

/**
 * The text PyRun_SimpleString runs. It executes in __main__'s namespace, so it binds no
 * name there: the real source runs in a fresh dict. It catches everything, because an
 * exception escaping a pending call surfaces later as SystemError in the target's main
 * thread, and it does nothing when it runs too late (its client gave up).
 */
export function wrapPayload(source: string, expiresAtMs: number): string {
  return [
    'try:',
    `    if __import__('time').time() < ${(expiresAtMs / 1000).toFixed(3)}:`,
    `        exec(${JSON.stringify(source)}, {'__name__': '__spyglass_bootstrap__'})`,
    'except BaseException:',
    '    pass',
    '',
  ].join('\n');
}

interface Symbols {
  ensure: bigint;
  release: bigint;
  check: bigint;
  runString: bigint;
  addPendingCall: bigint;
  runtimeStart: bigint;
  runtimeEnd: bigint;
}

function symbols(target: PythonTarget): Symbols {
  const need = (name: string): bigint => {
    const a = target.symbol(name);
    if (a === undefined)
      throw new UserError(`cannot attach to process ${target.pid}: ${name} is not exported by its Python ${target.version.text}`);
    return a;
  };
  // the size of _PyRuntime tells which futexes belong to the interpreter itself (the GIL,
  // the pending-calls lock...): a thread waiting on one of those must not be re-entered
  const elf = ElfFile.open(target.libPath ? mappedFilePath(target.pid, target.maps, target.libPath) : `/proc/${target.pid}/exe`);
  let size: bigint;
  try {
    size = elf.symbol('_PyRuntime')?.size ?? 0n;
  } finally {
    elf.close();
  }
  return {
    ensure: need('PyGILState_Ensure'),
    release: need('PyGILState_Release'),
    check: need('PyGILState_Check'),
    runString: need('PyRun_SimpleString'),
    addPendingCall: need('Py_AddPendingCall'),
    runtimeStart: target.pyRuntime,
    runtimeEnd: target.pyRuntime + (size > 0n ? size : 1n << 20n),
  };
}

/** A step given up on: its thread was let go to put itself back (Hijack.handOff). */
class HandedOffError extends Error {
  constructor() {
    super('the borrowed thread was let go to put itself back');
    this.name = 'HandedOffError';
  }
}

/** The direct strategy was asked for and the main thread is not where it can take it. */
export class DirectUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`cannot use the direct strategy: ${reason}`);
    this.name = 'DirectUnavailableError';
  }
}

/**
 * One seized thread with the scratch code and the signal frame in place: runs syscalls
 * and calls on it. Each step ends at the tail's tgkill, whose signal stops the thread;
 * the step's result is then in rbx.
 */
class Hijack {
  /** true while the thread runs injected code: then it must neither be restored nor detached */
  inFlight = false;
  /** the thread was let go in the middle of a step: it puts itself back, nothing more is done to it */
  handedOff = false;
  private handOffAsked = false;
  private readonly tail: Partial<Record<RegName, bigint>>;
  constructor(
    readonly tracee: Tracee,
    readonly scratch: bigint,
    private readonly saved: Regs,
    frame: SignalFrame,
    pid: number,
    private readonly signal: number,
    private readonly pendingSignal: number,
  ) {
    this.tail = tailRegisters(frame, pid, tracee.tid, signal);
  }

  /**
   * Gives up waiting for the step under way: the thread is stopped (PTRACE_INTERRUPT) and
   * let go where it is, to finish the step and put itself back (self-restore.ts). Between
   * steps, the next step is not started and the thread is restored as usual.
   */
  handOff(): void {
    this.handOffAsked = true;
    if (this.inFlight) this.tracee.interrupt();
  }

  private async run(rip: bigint, set: Partial<Record<RegName, bigint>>): Promise<bigint> {
    if (this.handOffAsked) throw new HandedOffError();
    const r = this.saved.clone();
    for (const [k, v] of Object.entries({ ...set, ...this.tail })) r.set(k as RegName, v as bigint);
    r.set('rip', rip);
    // not a syscall any more: otherwise the kernel backs rip up by 2 to restart it
    r.set('orig_rax', -1n);
    this.tracee.setRegs(r);
    this.tracee.cont();
    this.inFlight = true;
    const stopAt = this.scratch + STOP_AT;
    for (;;) {
      // no deadline here: a step that takes too long is handed over (handOff, injectPython)
      const stop = await this.tracee.waitStop(Number.POSITIVE_INFINITY);
      this.inFlight = false;
      const regs = stop.event === 0 && stop.sig === this.signal ? this.tracee.getRegs() : undefined;
      const atEnd = regs?.get('rip') === stopAt;
      if (this.handOffAsked) {
        // stopped by the interrupt, at the step's end, or for a signal of its own (passed on)
        this.tracee.detach(stop.event === 0 && !atEnd ? stop.sig : this.pendingSignal);
        this.handedOff = true;
        throw new HandedOffError();
      }
      if (regs && atEnd) return regs.signed('rbx');
      // another signal arrived meanwhile: deliver it (Python's C handler only sets a flag)
      this.tracee.cont(stop.event === 0 ? stop.sig : 0);
      this.inFlight = true;
    }
  }

  syscall(nr: bigint, args: bigint[] = []): Promise<bigint> {
    const names: RegName[] = ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'];
    const set: Partial<Record<RegName, bigint>> = { rax: nr };
    args.forEach((a, i) => (set[names[i]] = a));
    return this.run(this.scratch + SYSCALL_AT, set);
  }

  call(fn: bigint, args: bigint[] = []): Promise<bigint> {
    const names: RegName[] = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'];
    const set: Partial<Record<RegName, bigint>> = { rax: fn };
    args.forEach((a, i) => (set[names[i]] = a));
    return this.run(this.scratch + CALL_AT, set);
  }
}

/** The target is traced by another process (a debugger, or another spyglass attaching now). */
export class AlreadyTracedError extends UserError {
  constructor(
    pid: number,
    readonly tracer: number,
  ) {
    super(
      `cannot attach to process ${pid}: it is already being traced by process ${tracer}`,
      'detach the other debugger (gdb, strace, py-spy --native) and try again',
    );
  }
}

function seizeError(pid: number, e: unknown): Error {
  if (e instanceof PtraceError && e.errno === ESRCH) return new ProcessGoneError(pid);
  if (e instanceof PtraceError && e.errno === EPERM) {
    const tracer = tracerOf(pid);
    if (tracer) return new AlreadyTracedError(pid, tracer);
    return new PermissionError(pid, 'ptrace');
  }
  return e as Error;
}

function inRuntime(sym: Symbols, addr: bigint): boolean {
  return addr >= sym.runtimeStart && addr < sym.runtimeEnd;
}

/**
 * Why the stopped main thread cannot take a direct call, or undefined when it can.
 * It must sit inside a system call (the kernel will restart it) and not be waiting for
 * one of the interpreter's own locks; whether it holds the GIL is asked in the target.
 */
function notBlockedReason(mem: ProcessMemory, regs: Regs, sym: Symbols): string | undefined {
  const nr = regs.signed('orig_rax');
  if (nr < 0n) return 'main thread is running';
  let before: Buffer;
  try {
    before = mem.read(regs.get('rip') - 2n, 2);
  } catch {
    return 'main thread is not at a syscall instruction';
  }
  if (before[0] !== 0x0f || before[1] !== 0x05) return 'main thread is not at a syscall instruction';
  if (Number(nr) === SYS_FUTEX && inRuntime(sym, regs.get('rdi'))) return 'main thread waits for an interpreter lock (the GIL)';
  return undefined;
}

/**
 * select, pselect6 and ppoll (Python up to 3.10 sleeps in select, which glibc turns into
 * pselect6) are restarted with the time left that the kernel wrote into the caller's
 * timeout when the thread was stopped: without this, the time the thread was borrowed
 * would be added to the wait. Other waits restart exactly (futex, clock_nanosleep: an
 * absolute deadline) or report EINTR, which Python retries with the time left (PEP 475).
 */
const RESTARTED_TIMEOUT_ARG: Record<number, { reg: RegName; unitsPerSecond: bigint }> = {
  23: { reg: 'r8', unitsPerSecond: 1_000_000n }, // select: struct timeval
  270: { reg: 'r8', unitsPerSecond: 1_000_000_000n }, // pselect6: struct timespec
  271: { reg: 'rdx', unitsPerSecond: 1_000_000_000n }, // ppoll: struct timespec
};

function shortenRestartedTimeout(mem: ProcessMemory, regs: Regs, borrowedMs: number): void {
  const arg = RESTARTED_TIMEOUT_ARG[Number(regs.signed('orig_rax'))];
  const at = arg && RESTART_CODES.has(regs.signed('rax')) ? regs.get(arg.reg) : 0n;
  if (!at) return;
  const t = mem.read(at, 16);
  const unit = arg.unitsPerSecond;
  const left = t.readBigInt64LE(0) * unit + t.readBigInt64LE(8) - (BigInt(borrowedMs) * unit) / 1000n;
  const clamped = left > 0n ? left : 0n;
  t.writeBigInt64LE(clamped / unit, 0);
  t.writeBigInt64LE(clamped % unit, 8);
  mem.write(at, t);
}

/** The thread that holds the GIL while the main thread waits: is any other thread running? */
function otherThreadRunning(pid: number): boolean {
  return listThreads(pid).some((tid) => tid !== pid && threadState(pid, tid) === 'R');
}

/** How long a started call may take before the attach hands the thread over to its own way back and reports it. */
const CALL_GRACE_MS = 5000;

/** what ends spyglass from outside: a kill, a closed terminal, Ctrl-C */
const TERMINATING: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];

/**
 * While the main thread is hijacked, spyglass prefers to put it back itself: the thread's
 * own way back (self-restore.ts) turns a system call it was stopped in that would have been
 * restarted through restart_syscall into EINTR, and leaves its scratch bytes in place.
 * These signals are held until release(), so that a step that ends now is restored
 * exactly; `onSignal` hands a longer one over (the thread is let go at once). Then they
 * are acted on: by the command's own handlers (they are told at once), or, if it has
 * none, by their default action.
 */
function holdTerminatingSignals(onSignal: () => void): { release(): void } {
  const got = new Set<NodeJS.Signals>();
  const hold = (sig: NodeJS.Signals) => {
    got.add(sig);
    onSignal();
  };
  for (const sig of TERMINATING) process.on(sig, hold);
  return {
    release() {
      for (const sig of TERMINATING) process.off(sig, hold);
      for (const sig of got) if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    },
  };
}

/**
 * Gets `source` executed once inside the target. With 'direct' it has run when this
 * returns; with 'pending' it is queued and runs at the main thread's next eval-breaker
 * check (the caller waits for its effect with a deadline).
 */
export async function injectPython(target: PythonTarget, source: string, opts: InjectOptions): Promise<InjectResult> {
  const pid = target.pid;
  const sym = symbols(target);
  if (target.entryAddr === 0n) throw new Error(`no entry point found for the executable of process ${pid}`);
  const payload = Buffer.from(wrapPayload(source, opts.expiresAt) + '\0', 'utf8');

  const mem = ProcessMemory.open(pid, { write: true });
  const handOff: HandOff = {
    asked: false,
    ask() {
      this.asked = true;
      this.hijack?.handOff();
    },
  };
  const signals = holdTerminatingSignals(() => handOff.ask());
  let tracee: Tracee;
  let pendingSignal: number;
  try {
    ({ tracee, pendingSignal } = await Tracee.seize(pid, opts.deadline));
  } catch (e) {
    signals.release();
    mem.close();
    if (e instanceof TraceeExitedError) throw new ProcessGoneError(pid);
    if (e instanceof StopTimeoutError)
      throw new UserError(
        `cannot attach to process ${pid}: its main thread did not stop within the deadline`,
        'is it in uninterruptible I/O (state D)?',
      );
    throw seizeError(pid, e);
  }
  const started = Date.now();
  // A call slower than CALL_GRACE_MS (PyGILState_Ensure waiting for a GIL a C call holds)
  // is handed over: the thread finishes it and puts itself back, and the attach reports
  // it at once instead of keeping spyglass (and the user's Ctrl-C) waiting for it.
  const work = hijack(target, sym, payload, mem, tracee, pendingSignal, opts, started, handOff);
  work.catch(() => {}).finally(() => signals.release());
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((res) => {
    timer = setTimeout(() => res('late'), Math.max(opts.deadline, Date.now()) + CALL_GRACE_MS - Date.now());
  });
  try {
    const r = await Promise.race([work, late]);
    if (r !== 'late') return r;
  } catch (e) {
    if (!(e instanceof HandedOffError)) throw e;
    throw new UserError(`cannot attach to process ${pid}: interrupted before the agent was loaded; its main thread goes on as before`);
  } finally {
    clearTimeout(timer);
  }
  handOff.ask();
  throw new UserError(
    `cannot attach to process ${pid}: an injected call has not returned after ${CALL_GRACE_MS / 1000} s; its main thread finishes it and puts itself back`,
    'a C call may be holding the GIL; `spyglass dump ' + pid + '` shows where the threads are',
  );
}

/** Asked (a terminating signal, a call slower than CALL_GRACE_MS) to let the borrowed thread put itself back. */
interface HandOff {
  asked: boolean;
  /** set once the thread is hijacked */
  hijack?: Hijack;
  ask(): void;
}

/** The signal frame's bytes must land in the thread's own mapped, writable stack. */
function checkStackRoom(pid: number, frame: SignalFrame): void {
  const end = frame.start + BigInt(frame.bytes.length);
  const region = readMaps(pid).find((m) => m.start <= frame.start && end <= m.end);
  if (!region?.perms.startsWith('rw'))
    throw new UserError(`cannot attach to process ${pid}: its main thread's stack has no room below the stack pointer`);
}

async function hijack(
  target: PythonTarget,
  sym: Symbols,
  payload: Buffer,
  mem: ProcessMemory,
  tracee: Tracee,
  pendingSignal: number,
  opts: InjectOptions,
  started: number,
  handOff: HandOff,
): Promise<InjectResult> {
  const pid = target.pid;
  let saved: Regs | undefined;
  let fp: ReturnType<Tracee['getFpState']> | undefined;
  let original: Buffer | undefined;
  let h: Hijack | undefined;
  try {
    saved = tracee.getRegs();
    fp = tracee.getFpState();
    const quiet = quietSignal(pid, tracee.tid);
    if (!quiet)
      throw new UserError(
        `cannot attach to process ${pid}: it handles or blocks every signal spyglass could stop its main thread with`,
        'SIGPIPE, SIGXFSZ, SIGURG, SIGWINCH and SIGCHLD are all caught or blocked',
      );
    // the frame first: from the first step on, a thread left running puts itself back
    const frame = buildSignalFrame(saved, fp, quiet.blocked);
    checkStackRoom(pid, frame);
    mem.write(frame.start, frame.bytes);
    original = mem.read(target.entryAddr, SCRATCH.length);
    mem.write(target.entryAddr, SCRATCH);
    h = new Hijack(tracee, target.entryAddr, saved, frame, pid, quiet.signal, pendingSignal);
    handOff.hijack = h;
    if (handOff.asked) h.handOff();

    let reason = notBlockedReason(mem, saved, sym);
    if (reason === undefined && (await h.call(sym.check)) !== 0n) reason = 'main thread holds the GIL inside a system call';
    // PyGILState_Ensure would wait for a holder that is itself blocked, maybe for ever
    if (reason === undefined && gilLocked(target, mem) === true && !otherThreadRunning(pid)) reason = 'the GIL is held by a blocked thread';
    let strategy: Strategy;
    if (reason === undefined) {
      strategy = opts.strategy ?? 'direct';
      reason = 'main thread is blocked in a system call without the GIL';
    } else {
      if (opts.strategy === 'direct') throw new DirectUnavailableError(reason);
      strategy = 'pending';
    }

    // direct: the routine that runs Ensure, the payload and Release as one step, then the
    // payload; made executable (and read-only) before it runs
    const code = strategy === 'direct' ? directRoutine(sym.ensure, sym.runString, sym.release) : Buffer.alloc(0);
    const textAt = BigInt(Math.ceil(code.length / 16) * 16);
    const pageSize = BigInt(Math.ceil((Number(textAt) + payload.length) / PAGE) * PAGE);
    const page = await h.syscall(SYS_MMAP, [0n, pageSize, PROT_READ | PROT_WRITE, 0x22n /* PRIVATE|ANON */, -1n, 0n]);
    if (page < 0n && page > -4096n) throw new Error(`mmap in the target failed: errno ${-page}`);
    mem.write(page, Buffer.concat([code, Buffer.alloc(Number(textAt) - code.length), payload]));

    if (strategy === 'direct') {
      const rc = await h.syscall(SYS_MPROTECT, [page, pageSize, PROT_READ | PROT_EXEC]);
      if (rc !== 0n) throw new Error(`mprotect in the target failed: errno ${-rc}`);
      await h.call(page, [page + textAt]);
      await h.syscall(SYS_MUNMAP, [page, pageSize]);
    } else {
      // the page is leaked on purpose: the queued call reads it whenever it runs
      const rc = await h.call(sym.addPendingCall, [sym.runString, page]);
      if (rc !== 0n) throw new UserError(`cannot attach to process ${pid}: its queue of pending calls is full`, 'try again in a moment');
    }
    return { strategy, tid: pid, stoppedMs: Date.now() - started, reason };
  } catch (e) {
    if (e instanceof TraceeExitedError) throw new ProcessGoneError(pid);
    throw e;
  } finally {
    // a thread let go in a step, or still inside one (an error of ours while it ran),
    // finishes it: the scratch code's tail then puts it back by itself
    if (!h?.inFlight && !h?.handedOff) {
      try {
        if (fp) tracee.setFpState(fp);
        if (saved) {
          shortenRestartedTimeout(mem, saved, Date.now() - started);
          tracee.setRegs(saved);
        }
        // only once the registers point back into the thread's own code: resumed at the
        // stop (spyglass killed now), the thread still runs the tail of the scratch code
        if (original) mem.write(target.entryAddr, original);
      } catch {
        // the thread has gone: nothing left to restore
      }
      tracee.detach(pendingSignal);
    }
    mem.close();
  }
}
