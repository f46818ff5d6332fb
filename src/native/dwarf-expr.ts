// A DWARF expression evaluator for the expressions call frame information uses on
// x86_64: the PLT entries' CFA (rsp + 8 + 8 * (rip & 15 >= 11)), glibc's signal
// trampoline (registers saved in the ucontext at fixed offsets from rsp), and the
// arithmetic, comparison and branch operators around them (docs/native-unwinding.md §2).
import { DwarfCursor } from './dwarf-reader.js';

export interface ExprContext {
  /** current value of DWARF register r */
  reg(r: number): bigint;
  /** reads 8 bytes of the target (throws when unmapped) */
  read64(addr: bigint): bigint;
  /** the CFA, for DW_OP_call_frame_cfa (undefined while computing the CFA itself) */
  cfa?: bigint;
}

const MAX_STEPS = 1000;
const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const S64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/** Evaluates expr with `initial` pushed first (DW_CFA_expression pushes the CFA); returns the top of the stack. */
export function evalExpr(expr: Buffer, ctx: ExprContext, initial?: bigint): bigint {
  const s: bigint[] = initial === undefined ? [] : [initial];
  const c = new DwarfCursor(expr);
  const pop = (): bigint => {
    const v = s.pop();
    if (v === undefined) throw new RangeError('DWARF expression stack underflow');
    return v;
  };
  for (let steps = 0; !c.done; steps++) {
    if (steps > MAX_STEPS) throw new RangeError('DWARF expression does not end');
    const op = c.u8();
    if (op >= 0x30 && op <= 0x4f) {
      s.push(BigInt(op - 0x30));
      continue;
    } // lit0..lit31
    if (op >= 0x50 && op <= 0x6f) {
      s.push(ctx.reg(op - 0x50));
      continue;
    } // reg0..reg31 (value in a register)
    if (op >= 0x70 && op <= 0x8f) {
      s.push(U64(ctx.reg(op - 0x70) + BigInt(c.sleb())));
      continue;
    } // breg0..31
    switch (op) {
      case 0x03:
        s.push(c.u64());
        break; // addr
      case 0x06:
        s.push(ctx.read64(pop()));
        break; // deref
      case 0x08:
        s.push(BigInt(c.u8()));
        break;
      case 0x09:
        s.push(U64(BigInt(c.i8())));
        break;
      case 0x0a:
        s.push(BigInt(c.u16()));
        break;
      case 0x0b:
        s.push(U64(BigInt(c.i16())));
        break;
      case 0x0c:
        s.push(BigInt(c.u32()));
        break;
      case 0x0d:
        s.push(U64(BigInt(c.i32())));
        break;
      case 0x0e:
        s.push(c.u64());
        break;
      case 0x0f:
        s.push(U64(c.i64()));
        break;
      case 0x10:
        s.push(BigInt(c.uleb()));
        break;
      case 0x11:
        s.push(U64(BigInt(c.sleb())));
        break;
      case 0x12:
        s.push(s[s.length - 1]);
        break; // dup
      case 0x13:
        pop();
        break; // drop
      case 0x14:
        s.push(s[s.length - 2]);
        break; // over
      case 0x15:
        s.push(s[s.length - 1 - c.u8()]);
        break; // pick
      case 0x16: {
        const a = pop();
        const b = pop();
        s.push(a, b);
        break;
      } // swap
      case 0x17: {
        const a = pop();
        const b = pop();
        const d = pop();
        s.push(a, d, b);
        break;
      } // rot
      case 0x19: {
        const a = S64(pop());
        s.push(U64(a < 0n ? -a : a));
        break;
      } // abs
      case 0x1a: {
        const a = pop();
        s.push(pop() & a);
        break;
      }
      case 0x1b: {
        const a = S64(pop());
        const b = S64(pop());
        s.push(a === 0n ? 0n : U64(b / a));
        break;
      }
      case 0x1c: {
        const a = pop();
        s.push(U64(pop() - a));
        break;
      }
      case 0x1d: {
        const a = pop();
        const b = pop();
        s.push(a === 0n ? 0n : b % a);
        break;
      }
      case 0x1e: {
        const a = pop();
        s.push(U64(pop() * a));
        break;
      }
      case 0x1f:
        s.push(U64(-pop()));
        break;
      case 0x20:
        s.push(U64(~pop()));
        break;
      case 0x21: {
        const a = pop();
        s.push(pop() | a);
        break;
      }
      case 0x22: {
        const a = pop();
        s.push(U64(pop() + a));
        break;
      }
      case 0x23:
        s.push(U64(pop() + BigInt(c.uleb())));
        break; // plus_uconst
      case 0x24: {
        const a = pop();
        s.push(U64(pop() << a));
        break;
      }
      case 0x25: {
        const a = pop();
        s.push(pop() >> a);
        break;
      }
      case 0x26: {
        const a = pop();
        s.push(U64(S64(pop()) >> a));
        break;
      }
      case 0x27: {
        const a = pop();
        s.push(pop() ^ a);
        break;
      }
      case 0x28: {
        const off = c.i16();
        if (pop() !== 0n) c.pos += off;
        break;
      } // bra
      case 0x29: {
        const a = pop();
        s.push(pop() === a ? 1n : 0n);
        break;
      }
      case 0x2a: {
        const a = S64(pop());
        s.push(S64(pop()) >= a ? 1n : 0n);
        break;
      }
      case 0x2b: {
        const a = S64(pop());
        s.push(S64(pop()) > a ? 1n : 0n);
        break;
      }
      case 0x2c: {
        const a = S64(pop());
        s.push(S64(pop()) <= a ? 1n : 0n);
        break;
      }
      case 0x2d: {
        const a = S64(pop());
        s.push(S64(pop()) < a ? 1n : 0n);
        break;
      }
      case 0x2e: {
        const a = pop();
        s.push(pop() !== a ? 1n : 0n);
        break;
      }
      case 0x2f: {
        const off = c.i16();
        c.pos += off;
        break;
      } // skip
      case 0x90:
        s.push(ctx.reg(c.uleb()));
        break; // regx
      case 0x92: {
        const r = c.uleb();
        s.push(U64(ctx.reg(r) + BigInt(c.sleb())));
        break;
      } // bregx
      case 0x94: {
        // deref_size
        const n = c.u8();
        const v = ctx.read64(pop());
        s.push(n >= 8 ? v : v & ((1n << BigInt(8 * n)) - 1n));
        break;
      }
      case 0x96:
        break; // nop
      case 0x9c: // call_frame_cfa
        if (ctx.cfa === undefined) throw new RangeError('DW_OP_call_frame_cfa while computing the CFA');
        s.push(ctx.cfa);
        break;
      default:
        throw new RangeError(`unsupported DWARF operation 0x${op.toString(16)}`);
    }
  }
  return pop();
}
