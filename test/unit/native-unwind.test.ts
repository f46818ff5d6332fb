// The native layer against a C program whose stack is known (test/fixtures/native/frames.c),
// built here with gcc in several forms: .eh_frame (the usual), .debug_frame only, stripped
// and deleted from disk; plus a signal frame, the vdso, and the DWARF pieces alone.
import assert from 'node:assert/strict';
import { unlinkSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { evalExpr } from '../../src/native/dwarf-expr.js';
import { demangle } from '../../src/native/demangle.js';
import { NativeProcess } from '../../src/native/native-process.js';
import { FixtureDir, hasGcc, nativeStackOf, waitInSyscall, waitRunning } from '../helpers/native-fixture.js';

const OUR_CHAIN = ['level3', 'level2', 'level1', 'main'];
/** pause(2) on x86_64, where frames.c's wait_here sleeps */
const SYS_PAUSE = 34;

describe('native unwinding of a C program', { skip: !hasGcc() && 'gcc is not installed' }, () => {
  let fx: FixtureDir;
  before(() => {
    fx = new FixtureDir();
  });
  after(() => fx.cleanup());

  /** the stack of exe's main thread; with `until`, sampled again (for up to 10 s: a loaded machine may keep the program in its write() of READY that long) until it holds */
  async function stackOf(exe: string, args: string[] = [], prepare?: (pid: number) => Promise<void>, until?: (names: string[]) => boolean) {
    const pid = await fx.start(exe, args);
    try {
      if (prepare) await prepare(pid);
      const np = new NativeProcess(pid);
      try {
        np.prepare();
        let stack = await nativeStackOf(np, pid);
        const deadline = Date.now() + 10_000;
        while (until && !until(stack.frames.map((f) => f.name)) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 10));
          stack = await nativeStackOf(np, pid);
        }
        return { ...stack, notes: [...np.notes] };
      } finally {
        np.close();
      }
    } finally {
      fx.stop(pid);
    }
  }

  it('follows .eh_frame from a spinning function down to _start', async () => {
    const exe = fx.build('eh', ['-O2', '-fomit-frame-pointer']);
    const { frames, stopped } = await stackOf(exe);
    assert.equal(stopped, undefined);
    assert.deepEqual(
      frames.slice(0, 4).map((f) => f.name),
      OUR_CHAIN,
    );
    assert.ok(frames.slice(0, 4).every((f) => f.module === 'eh' && f.kind === 'native'));
    assert.equal(frames[frames.length - 1].name, '_start');
    assert.ok(
      frames.some((f) => f.module === 'libc.so.6' && /libc_start/.test(f.name)),
      frames.map((f) => f.name).join(' '),
    );
  });

  it('unwinds a libc system call and, through a signal frame, the handler above it', async () => {
    const exe = fx.build('sig', ['-O2', '-fomit-frame-pointer']);
    // READY may arrive while the program is still inside its write() of it
    const plain = await stackOf(exe, ['sleep'], undefined, (names) => names.includes('wait_here'));
    const names = plain.frames.map((f) => f.name);
    assert.equal(plain.frames[0].module, 'libc.so.6');
    assert.deepEqual(names.slice(names.indexOf('wait_here'), names.indexOf('wait_here') + 4), ['wait_here', 'level2', 'level1', 'main']);

    const sig = await stackOf(
      exe,
      ['sleep'],
      async (pid) => {
        // past its write of READY (a signal during it interrupts the write, not pause)
        await waitInSyscall(pid, SYS_PAUSE);
        process.kill(pid, 'SIGUSR1');
        await waitRunning(pid);
      },
      // the handler may still be on its way into level3 at the first look
      (names) => names[0] === 'level3',
    );
    const s = sig.frames.map((f) => f.name);
    assert.equal(sig.stopped, undefined);
    assert.deepEqual(s.slice(0, 2), ['level3', 'on_signal']);
    // the trampoline the kernel returns through, then the interrupted libc call
    assert.equal(sig.frames[2].module, 'libc.so.6');
    assert.match(s[2], /restore_rt/);
    assert.equal(sig.frames[3].module, 'libc.so.6');
    assert.deepEqual(s.slice(4, 8), ['wait_here', 'level2', 'level1', 'main']);
  });

  it('uses .debug_frame when a binary has no .eh_frame entries for its functions', async () => {
    const exe = fx.build('dbg', ['-O2', '-g', '-fno-asynchronous-unwind-tables', '-fno-unwind-tables', '-fomit-frame-pointer']);
    const { frames } = await stackOf(exe);
    assert.deepEqual(
      frames.slice(0, 4).map((f) => f.name),
      OUR_CHAIN,
    );
    assert.equal(frames[frames.length - 1].name, '_start');
  });

  it('reads a deleted, stripped binary through map_files: addresses for its functions, names for libc', async () => {
    // both looked at once they spin in their own code, past their write() of READY
    const named = await stackOf(fx.build('full', ['-O2']), [], undefined, (names) => names[0] === OUR_CHAIN[0]);
    const exe = fx.build('stripped', ['-O2', '-s']);
    const { frames, stopped } = await stackOf(
      exe,
      [],
      async () => unlinkSync(exe),
      (names) => /^0x/.test(names[0]),
    );
    assert.equal(stopped, undefined);
    assert.equal(frames.length, named.frames.length);
    for (const f of frames.slice(0, 4)) {
      assert.equal(f.module, 'stripped');
      assert.match(f.name, /^0x[0-9a-f]+$/);
    }
    assert.ok(frames.some((f) => f.module === 'libc.so.6' && /libc_start/.test(f.name)));
  });

  it("unwinds out of the vdso, whose image is read from the target's memory", async () => {
    const exe = fx.build('clock', ['-O2']);
    const pid = await fx.start(exe, ['clock']);
    try {
      const np = new NativeProcess(pid);
      np.prepare();
      let inVdso = 0;
      for (let i = 0; i < 300 && inVdso < 3; i++) {
        const { frames, stopped } = await nativeStackOf(np, pid);
        const names = frames.map((f) => f.name);
        if (frames[0].module === '[vdso]') {
          inVdso++;
          assert.match(frames[0].name, /clock_gettime/);
          assert.equal(stopped, undefined);
          assert.ok(names.includes('clock_loop') && names.includes('main'), names.join(' '));
        }
      }
      np.close();
      assert.ok(inVdso > 0, 'no sample caught the thread inside the vdso');
    } finally {
      fx.stop(pid);
    }
  });
});

describe('DWARF pieces', () => {
  it("evaluates a PLT entry's CFA expression (rsp + 8, plus 8 past the push)", () => {
    // DW_OP_breg7 8; DW_OP_breg16 0; DW_OP_lit15; DW_OP_and; DW_OP_lit11; DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus
    const expr = Buffer.from([0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22]);
    const regs = (rip: bigint) => ({ reg: (r: number) => (r === 7 ? 0x7ffd0000n : r === 16 ? rip : 0n), read64: () => 0n });
    assert.equal(evalExpr(expr, regs(0x401020n + 6n)), 0x7ffd0008n);
    assert.equal(evalExpr(expr, regs(0x401020n + 11n)), 0x7ffd0010n);
  });

  it('demangles C++ names with the C++ runtime, and leaves C names alone', () => {
    assert.equal(demangle('_ZN5torch3jit6tracer9ArgumentsE'), 'torch::jit::tracer::Arguments');
    assert.equal(
      demangle('_Z11svd_wrapperIdEvcPPcPKlS3_.constprop.0'),
      'void svd_wrapper<double>(char, char**, long const*, long const*) [clone .constprop.0]',
    );
    assert.equal(demangle('time_sleep'), 'time_sleep');
  });
});
