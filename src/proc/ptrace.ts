// ptrace, waitpid and errno through koffi, for the injection in inject.ts. Every call is
// synchronous on the JavaScript main thread: the kernel accepts ptrace requests only from
// the OS thread that seized the tracee (docs/attach.md §1). Waiting never blocks:
// waitpid is polled with WNOHANG and a deadline, yielding to the event loop between polls.
import { koffi } from './koffi.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadState } from './process.js';

const PTRACE_CONT = 7;
const PTRACE_GETREGS = 12;
const PTRACE_SETREGS = 13;
const PTRACE_GETFPREGS = 14;
const PTRACE_SETFPREGS = 15;
const PTRACE_DETACH = 17;
const PTRACE_GETSIGINFO = 0x4202;
const PTRACE_GETREGSET = 0x4204;
const PTRACE_SETREGSET = 0x4205;
const PTRACE_SEIZE = 0x4206;
const PTRACE_INTERRUPT = 0x4207;
/** the full XSAVE area (x87/SSE/AVX/AVX-512): the callees we run may touch ymm/zmm registers */
const NT_X86_XSTATE = 0x202;
const WNOHANG = 1;
const WALL = 0x40000000;
export const SIGTRAP = 5;
const SIGSTOP = 19;
const EINVAL = 22;
/** polls in a row that must see the thread trace-stopped with nothing to wait for (see waitStop) */
const STOLEN_STOP_POLLS = 3;
const PTRACE_EVENT_STOP = 128;
/** how long a thread that missed its stop deadline is still waited for, so that it can be detached */
const LATE_STOP_MS = 2000;

export const ESRCH = 3;
export const EPERM = 1;

let lib:
  | {
      ptraceBuf: (req: number, tid: number, addr: bigint, data: Buffer | null) => number;
      ptraceVal: (req: number, tid: number, addr: bigint, data: bigint) => number;
      waitpid: (tid: number, status: Int32Array, options: number) => number;
    }
  | undefined;

function libc(): NonNullable<typeof lib> {
  if (!lib) {
    const c = koffi().load('libc.so.6');
    // glibc declares ptrace variadic; integer/pointer arguments go in the same registers either
    // way on x86_64, so two fixed prototypes (buffer data, plain value data) avoid casts.
    lib = {
      ptraceBuf: c.func('long ptrace(int request, int pid, uint64_t addr, void *data)'),
      ptraceVal: c.func('ptrace', 'long', ['int', 'int', 'uint64_t', 'uint64_t']),
      waitpid: c.func('int waitpid(int pid, _Out_ int *status, int options)'),
    };
  }
  return lib;
}

/**
 * The exit status of child `pid` if it has ended (reaped now; 128 + N when signal N ended
 * it), undefined while it runs or is stopped. For a child whose end libuv missed: libuv
 * takes the ptrace stops of a traced child of ours for its exit and forgets it.
 */
export function reapChild(pid: number): number | undefined {
  const status = new Int32Array(1);
  if (libc().waitpid(pid, status, WNOHANG) !== pid) return undefined;
  const st = status[0];
  if ((st & 0x7f) === 0) return (st >> 8) & 0xff; // exited
  if ((st & 0xff) === 0x7f) return undefined; // a stop report, not an end
  return 128 + (st & 0x7f); // killed by a signal
}

/** A failed ptrace/waitpid call, with the errno the kernel gave. */
export class PtraceError extends Error {
  readonly errno: number;
  constructor(what: string, errno: number) {
    super(`${what} failed: errno ${errno}`);
    this.name = 'PtraceError';
    this.errno = errno;
  }
}

function check(rc: number, what: string): number {
  if (rc === -1) throw new PtraceError(what, koffi().errno());
  return rc;
}

/** General-purpose registers, `struct user_regs_struct` (27 × u64). */
export const REG = {
  r15: 0,
  r14: 1,
  r13: 2,
  r12: 3,
  rbp: 4,
  rbx: 5,
  r11: 6,
  r10: 7,
  r9: 8,
  r8: 9,
  rax: 10,
  rcx: 11,
  rdx: 12,
  rsi: 13,
  rdi: 14,
  orig_rax: 15,
  rip: 16,
  cs: 17,
  eflags: 18,
  rsp: 19,
  ss: 20,
  fs_base: 21,
  gs_base: 22,
  ds: 23,
  es: 24,
  fs: 25,
  gs: 26,
} as const;
export type RegName = keyof typeof REG;
const REGS_SIZE = 27 * 8;
const FPREGS_SIZE = 512;
const XSTATE_MAX = 16384;

export class Regs {
  readonly buf: Buffer;
  constructor(buf: Buffer = Buffer.alloc(REGS_SIZE)) {
    this.buf = buf;
  }
  get(r: RegName): bigint {
    return this.buf.readBigUInt64LE(REG[r] * 8);
  }
  /** the register as a signed value (rax after a syscall, orig_rax) */
  signed(r: RegName): bigint {
    return this.buf.readBigInt64LE(REG[r] * 8);
  }
  set(r: RegName, v: bigint): this {
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), REG[r] * 8);
    return this;
  }
  clone(): Regs {
    return new Regs(Buffer.from(this.buf));
  }
}

/** What a stopped tracee reported to waitpid. */
export interface Stop {
  /** the stopping signal (SIGTRAP for int3, SIGSTOP/SIGTRAP with event for PTRACE_INTERRUPT) */
  sig: number;
  /** PTRACE_EVENT_* in the high byte; 128 = the stop asked for by PTRACE_INTERRUPT or a group-stop */
  event: number;
}

export class TraceeExitedError extends Error {
  constructor(tid: number) {
    super(`thread ${tid} exited while being traced`);
    this.name = 'TraceeExitedError';
  }
}

/** One seized thread. Only this thread stops; the others of the process keep running. */
export class Tracee {
  readonly tid: number;
  private attached = true;

  private constructor(tid: number) {
    this.tid = tid;
  }

  /** PTRACE_SEIZE + PTRACE_INTERRUPT, then waits (polling) for the thread to stop. */
  static async seize(tid: number, deadline: number): Promise<{ tracee: Tracee; pendingSignal: number }> {
    check(libc().ptraceVal(PTRACE_SEIZE, tid, 0n, 0n), 'PTRACE_SEIZE');
    const t = new Tracee(tid);
    try {
      check(libc().ptraceVal(PTRACE_INTERRUPT, tid, 0n, 0n), 'PTRACE_INTERRUPT');
      // A signal that was already on its way may be reported before the interrupt's own
      // stop; keep it so detach delivers it, as it would have been without us.
      let pendingSignal = 0;
      for (;;) {
        const stop = await t.waitStop(deadline);
        if (stop.event === PTRACE_EVENT_STOP) return { tracee: t, pendingSignal };
        pendingSignal = stop.sig;
        // leave the signal undelivered for now; the interrupt's stop follows
        check(libc().ptraceVal(PTRACE_CONT, tid, 0n, 0n), 'PTRACE_CONT');
        check(libc().ptraceVal(PTRACE_INTERRUPT, tid, 0n, 0n), 'PTRACE_INTERRUPT');
      }
    } catch (e) {
      // PTRACE_DETACH only works on a stopped tracee: an interrupted thread that was slow
      // to stop would otherwise stay traced, and stopped for good once it does stop
      if (e instanceof StopTimeoutError) await t.waitStop(Date.now() + LATE_STOP_MS).catch(() => undefined);
      t.detach(0);
      throw e;
    }
  }

  /**
   * Polls waitpid(WNOHANG) until the thread stops; throws on exit or after the deadline.
   *
   * When the tracee is also a child of this process (a test's target, a program spyglass
   * launched), libuv's SIGCHLD handler calls waitpid on it too and may take the stop
   * report first. The stop is then recognised from /proc (state 't', seen on a few polls
   * in a row so that a report on its way is not missed) and read with PTRACE_GETSIGINFO.
   */
  async waitStop(deadline: number): Promise<Stop> {
    const status = new Int32Array(1);
    let stoppedPolls = 0;
    for (let polls = 0; ; polls++) {
      const rc = libc().waitpid(this.tid, status, WNOHANG | WALL);
      if (rc === -1) {
        const errno = koffi().errno();
        if (errno === 10 /* ECHILD */) {
          this.attached = false;
          throw new TraceeExitedError(this.tid);
        }
        throw new PtraceError('waitpid', errno);
      }
      if (rc === this.tid) {
        const st = status[0];
        if ((st & 0xff) !== 0x7f) {
          // not WIFSTOPPED: it exited or was killed
          this.attached = false;
          throw new TraceeExitedError(this.tid);
        }
        return { sig: (st >> 8) & 0xff, event: (st >>> 16) & 0xff };
      }
      stoppedPolls = threadState(this.tid, this.tid) === 't' ? stoppedPolls + 1 : 0;
      if (stoppedPolls >= STOLEN_STOP_POLLS) return this.stopFromSiginfo();
      if (Date.now() > deadline) throw new StopTimeoutError(this.tid);
      // the first polls come back quickly: most stops take well under a millisecond
      await (polls < 20 ? new Promise((r) => setImmediate(r)) : sleep(1));
    }
  }

  /** The stop waitpid would have reported, rebuilt from the siginfo of the stopped thread. */
  private stopFromSiginfo(): Stop {
    const info = Buffer.alloc(128);
    if (libc().ptraceBuf(PTRACE_GETSIGINFO, this.tid, 0n, info) === -1) {
      // EINVAL: a group-stop (SIGSTOP and friends), which has no siginfo
      if (koffi().errno() === EINVAL) return { sig: SIGSTOP, event: PTRACE_EVENT_STOP };
      throw new PtraceError('PTRACE_GETSIGINFO', koffi().errno());
    }
    const sig = info.readInt32LE(0);
    const code = info.readInt32LE(8);
    // a PTRACE_EVENT stop has si_code = SIGTRAP | event << 8; a signal has a small si_code
    return sig === SIGTRAP && (code & 0xff) === SIGTRAP ? { sig, event: (code >> 8) & 0xff } : { sig, event: 0 };
  }

  getRegs(): Regs {
    const r = new Regs();
    check(libc().ptraceBuf(PTRACE_GETREGS, this.tid, 0n, r.buf), 'PTRACE_GETREGS');
    return r;
  }

  setRegs(r: Regs): void {
    check(libc().ptraceBuf(PTRACE_SETREGS, this.tid, 0n, r.buf), 'PTRACE_SETREGS');
  }

  /** The floating-point/vector state: the full XSAVE area when the kernel offers it, else FXSAVE. */
  getFpState(): { xstate: boolean; buf: Buffer } {
    const area = Buffer.alloc(XSTATE_MAX);
    const iov = Buffer.alloc(16);
    iov.writeBigUInt64LE(koffi().address(area), 0);
    iov.writeBigUInt64LE(BigInt(area.length), 8);
    if (libc().ptraceBuf(PTRACE_GETREGSET, this.tid, BigInt(NT_X86_XSTATE), iov) !== -1) {
      return { xstate: true, buf: area.subarray(0, Number(iov.readBigUInt64LE(8))) };
    }
    const fx = Buffer.alloc(FPREGS_SIZE);
    check(libc().ptraceBuf(PTRACE_GETFPREGS, this.tid, 0n, fx), 'PTRACE_GETFPREGS');
    return { xstate: false, buf: fx };
  }

  setFpState(s: { xstate: boolean; buf: Buffer }): void {
    if (s.xstate) {
      const iov = Buffer.alloc(16);
      iov.writeBigUInt64LE(koffi().address(s.buf), 0);
      iov.writeBigUInt64LE(BigInt(s.buf.length), 8);
      check(libc().ptraceBuf(PTRACE_SETREGSET, this.tid, BigInt(NT_X86_XSTATE), iov), 'PTRACE_SETREGSET');
    } else {
      check(libc().ptraceBuf(PTRACE_SETFPREGS, this.tid, 0n, s.buf), 'PTRACE_SETFPREGS');
    }
  }

  /** Asks a running thread to stop (PTRACE_INTERRUPT); waitStop sees the stop. Never throws. */
  interrupt(): void {
    if (this.attached) libc().ptraceVal(PTRACE_INTERRUPT, this.tid, 0n, 0n);
  }

  /** Resumes the thread, delivering sig (0: none). */
  cont(sig = 0): void {
    check(libc().ptraceVal(PTRACE_CONT, this.tid, 0n, BigInt(sig)), 'PTRACE_CONT');
  }

  /** Lets the thread go, delivering sig (0: none). Safe to call twice; never throws. */
  detach(sig = 0): void {
    if (!this.attached) return;
    this.attached = false;
    libc().ptraceVal(PTRACE_DETACH, this.tid, 0n, BigInt(sig));
  }
}

export class StopTimeoutError extends Error {
  constructor(tid: number) {
    super(`thread ${tid} did not stop in time`);
    this.name = 'StopTimeoutError';
  }
}
