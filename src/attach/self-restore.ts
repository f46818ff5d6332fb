// What lets a borrowed thread put itself back when spyglass dies, or lets it go in the
// middle of a slow step (docs/attach.md §7).
//
// Every step of an injection ends in the scratch code's tail: tgkill() of the thread
// itself with a signal the target ignores, then rt_sigreturn from a signal frame that
// holds the thread's saved registers. With spyglass tracing, the signal stops the thread
// (ptrace reports even ignored signals) and spyglass reads the result, then restores the
// registers itself; the tail does not run past that stop. With spyglass gone (SIGKILL,
// the OOM killer) or detached mid-step, the ignored signal is dropped by the kernel and
// rt_sigreturn puts every register, the vector state and the signal mask back: the
// thread carries on where it was stopped instead of dying of the SIGTRAP an int3 would
// raise untraced.
import { readFileSync } from 'node:fs';
import type { Regs } from '../proc/ptrace.js';

/** Machine code written as one instruction per line: its bytes in hex, and what it does. */
type Asm = Array<[hex: string, what: string]>;
const assemble = (lines: Asm): Buffer => Buffer.from(lines.map(([hex]) => hex.replaceAll(' ', '')).join(''), 'hex');
/** where in the assembled code the instruction at index i starts */
const offsetOf = (lines: Asm, i: number): number => assemble(lines.slice(0, i)).length;

/**
 * The scratch code written over the executable's entry point (`_start`, 34 bytes in every
 * glibc build of CPython looked at; it only runs at start-up). Entered at SYSCALL_AT or
 * CALL_AT with rsp at the signal frame (SignalFrame.stackPointer), r12..r15 holding
 * tgkill's number and arguments (kept across the call: callee-saved).
 */
const SCRATCH_ASM: Asm = [
  ['0f 05', 'syscall'],
  ['eb 02', 'jmp +2 (to the tail)'],
  ['ff d0', 'call *%rax'],
  ['48 89 c3', 'mov %rax,%rbx: the result, for the tracer'],
  ['4c 89 e0', 'mov %r12,%rax: SYS_tgkill'],
  ['4c 89 ef', 'mov %r13,%rdi: the process id'],
  ['4c 89 f6', 'mov %r14,%rsi: the thread id'],
  ['4c 89 fa', 'mov %r15,%rdx: a signal the target ignores'],
  ['0f 05', "syscall: the tracer's stop"],
  ['b8 0f 00 00 00', 'mov $15,%eax: SYS_rt_sigreturn'],
  ['0f 05', 'syscall: back where the thread was'],
];
export const SCRATCH = assemble(SCRATCH_ASM);
export const SYSCALL_AT = BigInt(offsetOf(SCRATCH_ASM, 0));
export const CALL_AT = BigInt(offsetOf(SCRATCH_ASM, 2));
/** where rip is at the tracer's stop: just past tgkill's syscall instruction */
export const STOP_AT = BigInt(offsetOf(SCRATCH_ASM, 9));
const SYS_TGKILL = 234n;

/**
 * Three calls that must not be separated: PyGILState_Ensure, PyRun_SimpleString(rdi),
 * PyGILState_Release. A thread put back between the first and the last would hold the
 * GIL in a system call and freeze every other thread. Position-independent; the three
 * addresses go into its movabs immediates. Returns PyRun_SimpleString's result.
 */
const DIRECT_ASM: Asm = [
  ['53', 'push %rbx'],
  ['41 54', 'push %r12'],
  ['48 83 ec 08', 'sub $8,%rsp: 16-byte aligned at each call'],
  ['48 89 fb', 'mov %rdi,%rbx: the source text'],
  ['48 b8 0000000000000000', 'movabs $PyGILState_Ensure,%rax'],
  ['ff d0', 'call *%rax'],
  ['41 89 c4', 'mov %eax,%r12d: the GIL state to give back'],
  ['48 89 df', 'mov %rbx,%rdi'],
  ['48 b8 0000000000000000', 'movabs $PyRun_SimpleString,%rax'],
  ['ff d0', 'call *%rax'],
  ['44 89 e7', 'mov %r12d,%edi'],
  ['48 89 c3', 'mov %rax,%rbx'],
  ['48 b8 0000000000000000', 'movabs $PyGILState_Release,%rax'],
  ['ff d0', 'call *%rax'],
  ['48 89 d8', 'mov %rbx,%rax'],
  ['48 83 c4 08', 'add $8,%rsp'],
  ['41 5c', 'pop %r12'],
  ['5b', 'pop %rbx'],
  ['c3', 'ret'],
];
/** the immediates of the three movabs (2 bytes of opcode before each) */
const DIRECT_IMMEDIATES = [4, 8, 12].map((i) => offsetOf(DIRECT_ASM, i) + 2);

export function directRoutine(ensure: bigint, runString: bigint, release: bigint): Buffer {
  const code = assemble(DIRECT_ASM);
  [ensure, runString, release].forEach((addr, i) => code.writeBigUInt64LE(addr, DIRECT_IMMEDIATES[i]));
  return code;
}

const SIGPIPE = 13;
const SIGCHLD = 17;
const SIGURG = 23;
const SIGXFSZ = 25;
const SIGWINCH = 28;
/** signals whose default action is to be ignored (SIGCONT is, but it also resumes a stopped process) */
const IGNORED_BY_DEFAULT = new Set([SIGCHLD, SIGURG, SIGWINCH]);

function maskOf(status: string, field: string): bigint {
  const m = new RegExp(`^${field}:\\s+([0-9a-f]+)$`, 'm').exec(status);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

const has = (mask: bigint, sig: number) => ((mask >> BigInt(sig - 1)) & 1n) === 1n;

/**
 * A signal the thread does not block and the process ignores (SIG_IGN, or SIG_DFL for a
 * signal ignored by default): delivering it, or dropping it, changes nothing. Python sets
 * SIGPIPE and SIGXFSZ to SIG_IGN at start-up. Also returns the thread's signal mask, which
 * rt_sigreturn restores. Undefined when there is none such (the program caught them all).
 */
export function quietSignal(pid: number, tid: number): { signal: number; blocked: bigint } | undefined {
  return quietSignalOf(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
}

/** quietSignal, from the text of the thread's /proc status */
export function quietSignalOf(status: string): { signal: number; blocked: bigint } | undefined {
  const blocked = maskOf(status, 'SigBlk');
  const ignored = maskOf(status, 'SigIgn');
  const caught = maskOf(status, 'SigCgt');
  for (const sig of [SIGXFSZ, SIGPIPE, SIGURG, SIGWINCH, SIGCHLD]) {
    if (has(blocked, sig)) continue;
    if (has(ignored, sig) || (IGNORED_BY_DEFAULT.has(sig) && !has(caught, sig))) return { signal: sig, blocked };
  }
  return undefined;
}

// struct rt_sigframe (x86_64): pretcode, then struct ucontext { uc_flags, uc_link,
// stack_t uc_stack, struct sigcontext uc_mcontext, sigset_t uc_sigmask }, then siginfo.
// rt_sigreturn reads it at rsp - 8.
const UC_FLAGS = 8;
const UC_STACK_FLAGS = 24 + 8;
const MCONTEXT = 48;
const SIGMASK = MCONTEXT + 256;
const FRAME_SIZE = 8 + 304 + 128;
/** sigcontext field order: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags */
const SIGCONTEXT_REGS = [
  'r8',
  'r9',
  'r10',
  'r11',
  'r12',
  'r13',
  'r14',
  'r15',
  'rdi',
  'rsi',
  'rbp',
  'rbx',
  'rdx',
  'rax',
  'rcx',
  'rsp',
  'rip',
  'eflags',
] as const;
const SC_CS = 144;
const SC_SS = 150;
const SC_FPSTATE = 184;
const UC_FP_XSTATE = 1n;
const UC_SIGCONTEXT_SS = 2n;
const UC_STRICT_RESTORE_SS = 4n;
/** fpx_sw_bytes.magic1 sits at byte 464 of the FXSAVE area; magic2 follows the XSAVE image */
const FP_SW_BYTES = 464;
const FP_XSTATE_MAGIC2 = 0x46505845;
/** the interrupted frame's 128-byte red zone, with slack */
const RED_ZONE = 256n;

/** -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND in rax: the kernel re-issues the interrupted call */
export const RESTART_CODES = new Set([-512n, -513n, -514n]);
const ERESTART_RESTARTBLOCK = -516n;
const EINTR = -4n;

/**
 * The registers rt_sigreturn must load so that the thread resumes as the kernel would
 * have resumed it after the stop. rt_sigreturn turns syscall restarting off, so a system
 * call the stop interrupted is restarted here by hand: rip back over the `syscall`
 * instruction, rax its number again. One restarted through restart_syscall (relative
 * sleeps) cannot be (rt_sigreturn clears the restart block): it returns EINTR, which
 * Python and glibc retry with the time left.
 */
function resumedRegisters(saved: Regs): Regs {
  const r = saved.clone();
  if (saved.signed('orig_rax') < 0n) return r;
  const rc = saved.signed('rax');
  if (RESTART_CODES.has(rc)) {
    r.set('rax', saved.get('orig_rax'));
    r.set('rip', saved.get('rip') - 2n);
  } else if (rc === ERESTART_RESTARTBLOCK) {
    r.set('rax', EINTR);
  }
  return r;
}

/** Where the frame goes and what is written there; see buildSignalFrame. */
export interface SignalFrame {
  /** the lowest address written */
  start: bigint;
  bytes: Buffer;
  /** rsp for every injected step: the calls' stack grows down from just below the frame */
  stackPointer: bigint;
}

/**
 * A signal frame below the interrupted frame's red zone that rt_sigreturn turns back into
 * the thread as it was stopped: its registers, its vector state (the XSAVE image ptrace
 * gave, with the magic numbers that make the kernel load all of it; an FXSAVE image loads
 * x87/SSE and resets the rest) and its signal mask. The alternate signal stack field is
 * made invalid on purpose: rt_sigreturn then leaves the thread's own one as it is.
 */
export function buildSignalFrame(saved: Regs, fp: { xstate: boolean; buf: Buffer }, blocked: bigint): SignalFrame {
  const top = saved.get('rsp') - RED_ZONE;
  const fpSize = fp.xstate ? fp.buf.length + 4 : fp.buf.length;
  const fpAt = (top - BigInt(fpSize)) & ~63n;
  // rsp + 8 16-byte aligned at each call, as the ABI wants: frame = 8 mod 16
  const frameAt = ((fpAt - BigInt(FRAME_SIZE)) & ~15n) - 8n;
  const bytes = Buffer.alloc(Number(top - frameAt));

  const frame = bytes.subarray(0, FRAME_SIZE);
  frame.writeBigUInt64LE(UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | (fp.xstate ? UC_FP_XSTATE : 0n), UC_FLAGS);
  frame.writeInt32LE(3, UC_STACK_FLAGS); // neither 0, SS_ONSTACK nor SS_DISABLE: EINVAL, ignored
  const regs = resumedRegisters(saved);
  SIGCONTEXT_REGS.forEach((name, i) => frame.writeBigUInt64LE(regs.get(name), MCONTEXT + i * 8));
  frame.writeUInt16LE(Number(saved.get('cs')), MCONTEXT + SC_CS);
  frame.writeUInt16LE(Number(saved.get('ss')), MCONTEXT + SC_SS);
  frame.writeBigUInt64LE(fpAt, MCONTEXT + SC_FPSTATE);
  frame.writeBigUInt64LE(blocked, SIGMASK);

  const fpImage = bytes.subarray(Number(fpAt - frameAt));
  fp.buf.copy(fpImage);
  if (fp.xstate) fpImage.writeUInt32LE(FP_XSTATE_MAGIC2, fp.buf.length);
  else fpImage.fill(0, FP_SW_BYTES, 512); // no magic1: the kernel takes it as FXSAVE only
  return { start: frameAt, bytes, stackPointer: frameAt + 8n };
}

/** The registers every step sets besides its own: the stack and tgkill's arguments. */
export function tailRegisters(
  frame: SignalFrame,
  pid: number,
  tid: number,
  signal: number,
): Partial<Record<'rsp' | 'r12' | 'r13' | 'r14' | 'r15', bigint>> {
  return { rsp: frame.stackPointer, r12: SYS_TGKILL, r13: BigInt(pid), r14: BigInt(tid), r15: BigInt(signal) };
}
