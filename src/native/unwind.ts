// Walks one stopped thread's native stack from its registers (PTRACE_GETREGS) and its
// stack memory (/proc/PID/mem), following each module's DWARF call frame information:
// frame pointers cannot be trusted, no supported CPython build keeps them
// (docs/native-unwinding.md §2).
import type { Regs } from '../proc/ptrace.js';
import { MemoryReadError, type ProcessMemory } from '../proc/memory.js';
import { DWARF_REGS, RA_REG, RSP, type UnwindRow } from './cfi.js';
import { evalExpr, type ExprContext } from './dwarf-expr.js';
import type { ModuleMap, NativeModule } from './modules.js';

/** One frame as unwound: an address and the module that holds it. */
export interface RawFrame {
  /** the instruction being run (innermost) or the return address (callers) */
  pc: bigint;
  /** pc is the exact instruction (innermost frame, or the frame a signal interrupted), not a return address */
  exact: boolean;
  module?: NativeModule;
  /** found by scanning the stack for a return address, because the frame inside it had no unwind information */
  guessed?: boolean;
  /** a signal trampoline (__restore_rt): its return address is the function's first instruction, so it is named by pc itself */
  signal?: boolean;
}

export interface RawStack {
  frames: RawFrame[];
  /** why the walk ended before the outermost frame, when it did */
  stopped?: string;
}

/** user_regs_struct index of DWARF registers 0-16 (rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip) */
const PTRACE_OF_DWARF = [10, 12, 11, 5, 13, 14, 4, 19, 9, 8, 7, 6, 3, 2, 1, 0, 16];
const MAX_FRAMES = 512;
const PAGE = 4096;
/** how far above the stack pointer a return address is looked for when a function has no unwind information */
const SCAN_BYTES = 2048;

/** Reads of the target cached per page for the length of one walk (the stack does not move while the thread is stopped). */
class PageCache {
  private readonly pages = new Map<number, Buffer>();
  constructor(private readonly mem: ProcessMemory) {}

  read64(addr: bigint): bigint {
    const a = Number(addr);
    const page = a - (a % PAGE);
    const off = a - page;
    if (off + 8 > PAGE) {
      const buf = Buffer.alloc(8);
      for (let i = 0; i < 8; i++) buf[i] = this.page(page + Math.floor((off + i) / PAGE) * PAGE)[(off + i) % PAGE];
      return buf.readBigUInt64LE(0);
    }
    return this.page(page).readBigUInt64LE(off);
  }

  bytes(addr: bigint, len: number): Buffer {
    const a = Number(addr);
    const page = a - (a % PAGE);
    if (a - page + len <= PAGE) return this.page(page).subarray(a - page, a - page + len);
    return this.mem.read(addr, len);
  }

  private page(page: number): Buffer {
    let p = this.pages.get(page);
    if (!p) {
      p = this.mem.read(BigInt(page), PAGE);
      this.pages.set(page, p);
    }
    return p;
  }
}

export class Unwinder {
  constructor(
    private readonly modules: ModuleMap,
    private readonly mem: ProcessMemory,
  ) {}

  /** The frames of a thread stopped with these registers, innermost first. */
  unwind(regsIn: Regs, maxFrames = MAX_FRAMES): RawStack {
    const cache = new PageCache(this.mem);
    let regs: Array<bigint | undefined> = PTRACE_OF_DWARF.map((i) => regsIn.buf.readBigUInt64LE(i * 8));
    let pc = regs[RA_REG]!;
    let exact = true;
    const frames: RawFrame[] = [{ pc, exact, module: this.modules.at(pc) }];
    for (;;) {
      if (frames.length >= maxFrames) return { frames, stopped: `more than ${maxFrames} frames` };
      const lookup: bigint = exact ? pc : pc - 1n;
      const module = this.modules.at(lookup);
      const row: UnwindRow | undefined = module && this.rowFor(module, lookup);
      if (!row) {
        // the innermost function may lack unwind information (some hand-written assembly):
        // guess its caller from the stack, once
        if (frames.length === 1) {
          const guess = this.scanForReturn(regs[RSP]!, cache);
          if (guess) {
            regs = regs.slice();
            regs[RSP] = guess.sp;
            pc = guess.ra;
            exact = false;
            frames.push({ pc, exact, module: this.modules.at(pc - 1n), guessed: true });
            continue;
          }
        }
        return {
          frames,
          stopped: module
            ? `no unwind information for 0x${pc.toString(16)} in ${module.name}`
            : `0x${pc.toString(16)} is outside any module`,
        };
      }
      if (row.signalFrame) frames[frames.length - 1].signal = true;
      let next: Array<bigint | undefined>;
      try {
        next = this.step(row, regs, cache);
      } catch (e) {
        if (e instanceof MemoryReadError || e instanceof RangeError)
          return { frames, stopped: `cannot unwind past 0x${pc.toString(16)}: ${e.message}` };
        throw e;
      }
      const ra = next[row.raReg];
      // an undefined return address marks the outermost frame (_start, clone); 0 too
      if (ra === undefined || ra === 0n) return { frames };
      const sp = next[RSP];
      if (sp === undefined || (!row.signalFrame && sp <= regs[RSP]!))
        return { frames, stopped: 'the stack pointer does not move up (corrupt stack?)' };
      regs = next;
      pc = ra;
      // the frame a signal interrupted resumes at pc itself, not after a call
      exact = row.signalFrame;
      frames.push({ pc, exact, module: this.modules.at(exact ? pc : pc - 1n) });
    }
  }

  private rowFor(module: NativeModule, pc: bigint): UnwindRow | undefined {
    const table = module.unwindTable();
    return table?.rowFor(pc - module.bias);
  }

  /** The caller's registers, by the rules of row. */
  private step(row: UnwindRow, regs: Array<bigint | undefined>, cache: PageCache): Array<bigint | undefined> {
    const value = (r: number): bigint => {
      const v = regs[r];
      if (v === undefined) throw new RangeError(`register ${r} is not known here`);
      return v;
    };
    const ctx: ExprContext = { reg: value, read64: (a) => cache.read64(a) };
    const cfa = row.cfa.kind === 'reg' ? BigInt.asUintN(64, value(row.cfa.reg) + BigInt(row.cfa.offset)) : evalExpr(row.cfa.expr, ctx);
    ctx.cfa = cfa;
    const next = regs.slice();
    // on x86_64 the CFA is by definition the caller's stack pointer
    next[RSP] = cfa;
    for (let r = 0; r < DWARF_REGS; r++) {
      const rule = row.rules[r];
      if (!rule) continue;
      switch (rule.kind) {
        case 'undefined':
          next[r] = undefined;
          break;
        case 'same':
          break;
        case 'offset':
          next[r] = cache.read64(cfa + BigInt(rule.n));
          break;
        case 'valOffset':
          next[r] = BigInt.asUintN(64, cfa + BigInt(rule.n));
          break;
        case 'register':
          next[r] = regs[rule.reg];
          break;
        case 'expr':
          next[r] = cache.read64(evalExpr(rule.expr, ctx, cfa));
          break;
        case 'valExpr':
          next[r] = evalExpr(rule.expr, ctx, cfa);
          break;
      }
    }
    // the return address column: when the CIE names another, the rule above covers it
    if (row.raReg === RA_REG && !row.rules[RA_REG]) next[RA_REG] = undefined;
    return next;
  }

  /**
   * The first word above sp that looks like a return address: it points into a module,
   * just after a call instruction. Used only for the innermost frame.
   */
  private scanForReturn(sp: bigint, cache: PageCache): { ra: bigint; sp: bigint } | undefined {
    for (let off = 0n; off < BigInt(SCAN_BYTES); off += 8n) {
      let w: bigint;
      try {
        w = cache.read64(sp + off);
      } catch {
        return undefined;
      }
      if (w < 4096n || !this.modules.at(w - 1n)) continue;
      let code: Buffer;
      try {
        code = cache.bytes(w - 7n, 7);
      } catch {
        continue;
      }
      if (followsCall(code)) return { ra: w, sp: sp + off + 8n };
    }
    return undefined;
  }
}

/** Do the 7 bytes before a return address end with a call instruction? */
function followsCall(b: Buffer): boolean {
  // call rel32: e8 xx xx xx xx
  if (b[2] === 0xe8) return true;
  // call *reg: ff d0+r (optionally REX-prefixed)
  if (b[5] === 0xff && (b[6] & 0xf8) === 0xd0) return true;
  // call *disp8(reg): ff 50+r d8
  if (b[4] === 0xff && (b[5] & 0xf8) === 0x50) return true;
  // call *(reg): ff 10+r
  if (b[5] === 0xff && (b[6] & 0xf8) === 0x10) return true;
  // call *disp32(rip) / *disp32(reg): ff 15 / ff 90+r
  if (b[1] === 0xff && (b[2] === 0x15 || (b[2] & 0xf8) === 0x90)) return true;
  return false;
}
