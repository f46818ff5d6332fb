// The pieces of a borrowed thread's own way back (src/attach/self-restore.ts) that can be
// checked without a target: the signal frame rt_sigreturn reads (layout, alignment, the
// by-hand restart of an interrupted system call) and the choice of the stopping signal.
// The e2e attach tests kill spyglass mid-attach to check the whole of it on real targets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSignalFrame, quietSignalOf } from '../../src/attach/self-restore.js';
import { Regs } from '../../src/proc/ptrace.js';

const RIP = 0x7f00_1234_5678n;

function stopped(orig: bigint, rax: bigint): Regs {
  return new Regs()
    .set('rsp', 0x7ffd_0000_1008n)
    .set('rip', RIP)
    .set('orig_rax', orig)
    .set('rax', rax)
    .set('rbx', 7n)
    .set('eflags', 0x246n)
    .set('cs', 0x33n)
    .set('ss', 0x2bn);
}

/** the frame's sigcontext register at index i (r8, r9, ..., rax = 13, rip = 16) */
const sc = (f: { bytes: Buffer }, i: number) => f.bytes.readBigUInt64LE(48 + i * 8);
const RAX = 13;
const RBX = 11;
const RSP = 15;
const RIP_AT = 16;

test('the frame: below the red zone, rsp+8 16-aligned for calls, the vector state 64-aligned with its second magic', () => {
  const xsave = Buffer.alloc(1000, 0xab);
  const regs = stopped(-1n, 5n);
  const f = buildSignalFrame(regs, { xstate: true, buf: xsave }, 0x1234n);
  assert.equal(f.start + BigInt(f.bytes.length), regs.get('rsp') - 256n);
  assert.equal(f.stackPointer % 16n, 0n);
  assert.equal(f.stackPointer, f.start + 8n);
  const fpAt = f.bytes.readBigUInt64LE(48 + 184);
  assert.equal(fpAt % 64n, 0n);
  const fp = f.bytes.subarray(Number(fpAt - f.start));
  assert.ok(fp.subarray(0, 1000).equals(xsave));
  assert.equal(fp.readUInt32LE(1000), 0x46505845);
  assert.equal(f.bytes.readBigUInt64LE(48 + 256), 0x1234n, 'signal mask');
  assert.equal(f.bytes.readInt32LE(32), 3, 'an invalid sigaltstack mode: the thread keeps its own');
  assert.equal(f.bytes.readBigUInt64LE(8), 7n, 'uc_flags: FP_XSTATE | SIGCONTEXT_SS | STRICT_RESTORE_SS');
  // a thread stopped running (not in a system call) resumes with its registers as they were
  assert.equal(sc(f, RIP_AT), RIP);
  assert.equal(sc(f, RAX), 5n);
  assert.equal(sc(f, RBX), 7n);
  assert.equal(sc(f, RSP), regs.get('rsp'));
  assert.equal(f.bytes.readUInt16LE(48 + 144), 0x33);
  assert.equal(f.bytes.readUInt16LE(48 + 150), 0x2b);
});

test('an FXSAVE image has no first magic: the kernel loads it as x87/SSE only', () => {
  const fx = Buffer.alloc(512, 0xcd);
  const f = buildSignalFrame(stopped(-1n, 0n), { xstate: false, buf: fx }, 0n);
  const fpAt = f.bytes.readBigUInt64LE(48 + 184);
  const fp = f.bytes.subarray(Number(fpAt - f.start));
  assert.ok(fp.subarray(0, 464).equals(fx.subarray(0, 464)));
  assert.ok(fp.subarray(464, 512).equals(Buffer.alloc(48)));
});

test('a system call the stop interrupted: restarted by hand, or EINTR where only restart_syscall could', () => {
  for (const code of [-512n, -513n, -514n]) {
    const f = buildSignalFrame(stopped(230n, code), { xstate: false, buf: Buffer.alloc(512) }, 0n);
    assert.equal(sc(f, RIP_AT), RIP - 2n, `rip back over the syscall instruction (${code})`);
    assert.equal(sc(f, RAX), 230n, `rax the call's number again (${code})`);
  }
  const block = buildSignalFrame(stopped(35n, -516n), { xstate: false, buf: Buffer.alloc(512) }, 0n);
  assert.equal(sc(block, RIP_AT), RIP);
  assert.equal(BigInt.asIntN(64, sc(block, RAX)), -4n);
  // a call that had ended (its result in rax) is not run again
  const done = buildSignalFrame(stopped(0n, 17n), { xstate: false, buf: Buffer.alloc(512) }, 0n);
  assert.equal(sc(done, RIP_AT), RIP);
  assert.equal(sc(done, RAX), 17n);
});

test('the stopping signal: one the thread does not block and the process ignores', () => {
  const status = (blk: bigint, ign: bigint, cgt: bigint) =>
    `Name:\tpython3\nSigQ:\t0/31\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t${blk.toString(16).padStart(16, '0')}\nSigIgn:\t${ign.toString(16).padStart(16, '0')}\nSigCgt:\t${cgt.toString(16).padStart(16, '0')}\n`;
  const bit = (sig: number) => 1n << BigInt(sig - 1);
  // Python's own start-up: SIGPIPE and SIGXFSZ ignored, SIGINT caught
  assert.deepEqual(quietSignalOf(status(0n, bit(13) | bit(25), bit(2))), { signal: 25, blocked: 0n });
  assert.equal(quietSignalOf(status(bit(25), bit(13) | bit(25), 0n))?.signal, 13);
  // a program that set SIGPIPE and SIGXFSZ back to their default (terminate): SIGURG
  assert.equal(quietSignalOf(status(0n, 0n, 0n))?.signal, 23);
  // SIGURG and SIGWINCH caught: SIGCHLD, ignored by default
  assert.equal(quietSignalOf(status(0n, 0n, bit(23) | bit(28)))?.signal, 17);
  assert.equal(quietSignalOf(status(bit(17), 0n, bit(23) | bit(28))), undefined);
});
