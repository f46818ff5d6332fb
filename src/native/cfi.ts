// DWARF call frame information of one ELF image: the .eh_frame_hdr search table (or a
// table built by scanning .eh_frame / .debug_frame when there is none), CIE and FDE
// parsing, and the CFA program interpreter that turns an FDE into the rules for one pc
// (docs/native-unwinding.md §2). Addresses here are link-time addresses.
import type { ElfFile } from '../proc/elf.js';
import { DwarfCursor, DW_EH_PE_omit } from './dwarf-reader.js';
import { lastAtOrBelow } from '../sorted.js';

/** DWARF register numbers on x86_64 that the unwinder tracks: rax..r15 (0-15) and the return address (16). */
export const DWARF_REGS = 17;
export const RA_REG = 16;
export const RSP = 7;

export type RegRule =
  | { kind: 'undefined' }
  | { kind: 'same' }
  /** saved at CFA + n */
  | { kind: 'offset'; n: number }
  /** the value is CFA + n */
  | { kind: 'valOffset'; n: number }
  | { kind: 'register'; reg: number }
  /** saved at the address the expression computes */
  | { kind: 'expr'; expr: Buffer }
  /** the value is what the expression computes */
  | { kind: 'valExpr'; expr: Buffer };

export type CfaRule = { kind: 'reg'; reg: number; offset: number } | { kind: 'expr'; expr: Buffer };

/** How to find the caller's registers at one pc. */
export interface UnwindRow {
  cfa: CfaRule;
  /** rules for DWARF registers 0-16; undefined entries keep their value (callee-saved "same value") */
  rules: Array<RegRule | undefined>;
  /** the FDE's CIE has the 'S' augmentation: this frame is a signal trampoline (__restore_rt) */
  signalFrame: boolean;
  /** the CIE's return address column */
  raReg: number;
  /** link-time start of the function the FDE covers */
  funcStart: bigint;
}

interface Cie {
  codeAlign: number;
  dataAlign: number;
  raReg: number;
  fdeEncoding: number;
  hasAugData: boolean;
  signalFrame: boolean;
  initial: Buffer;
}

type Source = 'eh' | 'debug';

interface SectionData {
  buf: Buffer;
  addr: bigint;
}

const ROW_CACHE_MAX = 8192;
/** DW_EH_PE_datarel | DW_EH_PE_sdata4: .eh_frame_hdr's usual table encoding */
const DW_EH_PE_datarel_sdata4 = 0x3b;
const UNDEFINED: RegRule = { kind: 'undefined' };
const SAME: RegRule = { kind: 'same' };

export class UnwindTable {
  /** sorted link-time start addresses of the FDEs, and where each FDE is */
  private readonly starts: Float64Array;
  private readonly fdeOffsets: Float64Array;
  private readonly fdeSources: Uint8Array;
  private readonly eh?: SectionData;
  private readonly debug?: SectionData;
  private readonly cies = new Map<string, Cie>();
  private readonly rows = new Map<number, UnwindRow | null>();

  /** Reads the unwind sections of elf; throws when they are malformed. */
  constructor(elf: ElfFile, debugElf?: ElfFile) {
    this.eh = sectionData(elf, '.eh_frame');
    const debugFrame = sectionData(elf, '.debug_frame') ?? (debugElf && sectionData(debugElf, '.debug_frame'));
    const hdr = sectionData(elf, '.eh_frame_hdr');
    const direct = this.eh && hdr && !debugFrame ? this.hdrTableDirect(hdr, this.eh) : undefined;
    if (direct) {
      this.starts = direct.starts;
      this.fdeOffsets = direct.fdes;
      this.fdeSources = new Uint8Array(direct.starts.length);
      return;
    }
    const entries: Array<[number, number, number]> = [];
    if (this.eh && hdr) this.readHdrTable(hdr, entries);
    else if (this.eh) this.scan(this.eh, 'eh', entries);
    if (debugFrame) {
      // .debug_frame fills what .eh_frame leaves out (assembly without unwind entries in .eh_frame)
      this.debug = debugFrame;
      this.scan(debugFrame, 'debug', entries);
    }
    entries.sort((a, b) => a[0] - b[0]);
    this.starts = Float64Array.from(entries, (e) => e[0]);
    this.fdeOffsets = Float64Array.from(entries, (e) => e[1]);
    this.fdeSources = Uint8Array.from(entries, (e) => e[2]);
  }

  get size(): number {
    return this.starts.length;
  }

  /**
   * The unwind rules in effect at link-time address pc, or undefined when no FDE covers
   * it. Cached per pc: a warm unwind parses nothing.
   */
  rowFor(pc: bigint): UnwindRow | undefined {
    const key = Number(pc);
    const cached = this.rows.get(key);
    if (cached !== undefined) return cached ?? undefined;
    let row: UnwindRow | null = null;
    // FDEs may overlap (eh and debug copies of one function): try the nearest starts down
    for (let i = this.search(key), tries = 0; i >= 0 && tries < 4; i--, tries++) {
      try {
        row = this.rowFromFde(this.fdeSources[i] ? 'debug' : 'eh', this.fdeOffsets[i], pc) ?? null;
      } catch {
        row = null; // a malformed FDE: this function cannot be unwound
      }
      if (row) break;
    }
    if (this.rows.size >= ROW_CACHE_MAX) this.rows.clear();
    this.rows.set(key, row);
    return row ?? undefined;
  }

  /** index of the last FDE starting at or below pc, -1 if none */
  private search(pc: number): number {
    return lastAtOrBelow(this.starts, pc);
  }

  /**
   * The usual .eh_frame_hdr (its table as pairs of 4-byte offsets from the header, what
   * GNU ld and lld write) read straight into typed arrays: no per-entry parsing, so a
   * module's tables cost a file read (docs/native-unwinding.md §2).
   */
  private hdrTableDirect(hdr: SectionData, eh: SectionData): { starts: Float64Array; fdes: Float64Array } | undefined {
    const c = new DwarfCursor(hdr.buf, 0, hdr.addr);
    if (c.u8() !== 1) return undefined;
    const ehFramePtrEnc = c.u8();
    const countEnc = c.u8();
    const tableEnc = c.u8();
    if (tableEnc !== DW_EH_PE_datarel_sdata4 || countEnc === DW_EH_PE_omit) return undefined;
    c.encoded(ehFramePtrEnc, hdr.addr);
    const count = Number(c.encoded(countEnc, hdr.addr));
    if (c.pos + 8 * count > hdr.buf.length) throw new RangeError('.eh_frame_hdr: table runs past the section');
    const base = Number(hdr.addr);
    const ehBase = Number(eh.addr);
    const starts = new Float64Array(count);
    const fdes = new Float64Array(count);
    // the pairs as 32-bit integers, read in place (a copy when they are not 4-byte aligned):
    // a plain typed-array loop, run before any JIT warms up, costs a fraction of readInt32LE's
    const at = hdr.buf.byteOffset + c.pos;
    const pairs =
      at % 4 === 0
        ? new Int32Array(hdr.buf.buffer, at, 2 * count)
        : new Int32Array(Uint8Array.prototype.slice.call(hdr.buf, c.pos, c.pos + 8 * count).buffer);
    for (let i = 0; i < count; i++) {
      starts[i] = base + pairs[2 * i];
      fdes[i] = base + pairs[2 * i + 1] - ehBase;
    }
    return { starts, fdes };
  }

  /** .eh_frame_hdr: version 1, then the encodings, then a sorted (initial location, FDE address) table. */
  private readHdrTable(hdr: SectionData, out: Array<[number, number, number]>): void {
    const c = new DwarfCursor(hdr.buf, 0, hdr.addr);
    if (c.u8() !== 1) throw new RangeError('.eh_frame_hdr: unknown version');
    const ehFramePtrEnc = c.u8();
    const countEnc = c.u8();
    const tableEnc = c.u8();
    c.encoded(ehFramePtrEnc, hdr.addr);
    if (countEnc === DW_EH_PE_omit || tableEnc === DW_EH_PE_omit) {
      this.scan(this.eh!, 'eh', out);
      return;
    }
    const count = Number(c.encoded(countEnc, hdr.addr));
    const ehAddr = this.eh!.addr;
    for (let i = 0; i < count; i++) {
      const start = c.encoded(tableEnc, hdr.addr);
      const fde = c.encoded(tableEnc, hdr.addr);
      out.push([Number(start), Number(fde - ehAddr), 0]);
    }
  }

  /** Walks every CIE/FDE of a section, adding each FDE to the table. */
  private scan(sec: SectionData, source: Source, out: Array<[number, number, number]>): void {
    const buf = sec.buf;
    let pos = 0;
    while (pos + 4 <= buf.length) {
      const { length, headerLen } = entryLength(buf, pos);
      if (length === 0) {
        if (source === 'eh') break; // the terminator
        pos += headerLen;
        continue;
      }
      const idPos = pos + headerLen;
      const next = idPos + length;
      if (next > buf.length) break;
      const id = headerLen === 12 ? buf.readBigUInt64LE(idPos) : BigInt(buf.readUInt32LE(idPos));
      const isCie = source === 'eh' ? id === 0n : id === 0xffffffffn || id === 0xffffffffffffffffn;
      if (!isCie) {
        try {
          const f = this.parseFde(source, pos);
          if (f) out.push([Number(f.start), pos, source === 'debug' ? 1 : 0]);
        } catch {
          /* a malformed FDE is skipped: its function just cannot be unwound */
        }
      }
      pos = next;
    }
  }

  private parseCie(source: Source, offset: number): Cie {
    const key = `${source}:${offset}`;
    const cached = this.cies.get(key);
    if (cached) return cached;
    const sec = source === 'eh' ? this.eh! : this.debug!;
    const { length, headerLen } = entryLength(sec.buf, offset);
    const end = offset + headerLen + length;
    const c = new DwarfCursor(sec.buf.subarray(0, end), offset + headerLen + (headerLen === 12 ? 8 : 4), sec.addr);
    const version = c.u8();
    const aug = c.cstr();
    if (version >= 4) {
      c.u8(); // address_size
      c.u8(); // segment_selector_size
    }
    const codeAlign = c.uleb();
    const dataAlign = c.sleb();
    const raReg = version === 1 ? c.u8() : c.uleb();
    let fdeEncoding = 0;
    let signalFrame = false;
    let hasAugData = false;
    if (aug.startsWith('z')) {
      hasAugData = true;
      const augLen = c.uleb();
      const augEnd = c.pos + augLen;
      for (const ch of aug.slice(1)) {
        if (ch === 'R') fdeEncoding = c.u8();
        else if (ch === 'L') c.u8();
        else if (ch === 'P') c.encoded(c.u8());
        else if (ch === 'S') signalFrame = true;
        else if (ch === 'B' || ch === 'G') continue;
        else break; // unknown: the length lets us skip the rest
      }
      c.pos = augEnd;
    } else if (aug.includes('S')) signalFrame = true;
    const cie: Cie = { codeAlign, dataAlign, raReg, fdeEncoding, hasAugData, signalFrame, initial: sec.buf.subarray(c.pos, end) };
    this.cies.set(key, cie);
    return cie;
  }

  private parseFde(source: Source, offset: number): { cie: Cie; start: bigint; end: bigint; program: Buffer } | undefined {
    const sec = source === 'eh' ? this.eh! : this.debug!;
    const { length, headerLen } = entryLength(sec.buf, offset);
    if (length === 0) return undefined;
    const idPos = offset + headerLen;
    const end = idPos + length;
    const c = new DwarfCursor(sec.buf.subarray(0, end), idPos, sec.addr);
    let cieOffset: number;
    if (source === 'eh') {
      const rel = headerLen === 12 ? Number(c.u64()) : c.u32();
      if (rel === 0) return undefined; // a CIE
      cieOffset = idPos - rel; // relative to the CIE pointer field itself
    } else {
      cieOffset = headerLen === 12 ? Number(c.u64()) : c.u32();
    }
    const cie = this.parseCie(source, cieOffset);
    // .debug_frame has no augmentation: its addresses are plain 8-byte values
    const enc = source === 'eh' ? cie.fdeEncoding : 0x00;
    const start = c.encoded(enc);
    const range = c.encoded(enc & 0x0f);
    if (source === 'eh' && cie.hasAugData) c.pos += c.uleb();
    return { cie, start, end: start + range, program: sec.buf.subarray(c.pos, end) };
  }

  private rowFromFde(source: Source, offset: number, pc: bigint): UnwindRow | undefined {
    const fde = this.parseFde(source, offset);
    if (!fde || pc < fde.start || pc >= fde.end) return undefined;
    const { cie } = fde;
    const state: RowState = { cfa: { kind: 'reg', reg: RSP, offset: 8 }, rules: new Array(DWARF_REGS).fill(undefined) };
    runProgram(cie.initial, cie, state, fde.start, fde.start, undefined);
    const initial = state.rules.slice();
    runProgram(fde.program, cie, state, fde.start, pc, initial);
    return { cfa: state.cfa, rules: state.rules, signalFrame: cie.signalFrame, raReg: cie.raReg, funcStart: fde.start };
  }
}

interface RowState {
  cfa: CfaRule;
  rules: Array<RegRule | undefined>;
}

function sectionData(elf: ElfFile, name: string): SectionData | undefined {
  const s = elf.section(name);
  if (!s || s.type === 8 /* NOBITS */ || s.size === 0n) return undefined;
  return { buf: elf.read(s.offset, Number(s.size)), addr: s.addr };
}

/** The length field of a CIE/FDE: 4 bytes, or 0xffffffff and 8 more (64-bit DWARF). */
function entryLength(buf: Buffer, pos: number): { length: number; headerLen: number } {
  const l = buf.readUInt32LE(pos);
  if (l === 0xffffffff) return { length: Number(buf.readBigUInt64LE(pos + 4)), headerLen: 12 };
  return { length: l, headerLen: 4 };
}

/**
 * Runs a CFA program from loc (the function's start) until the location passes pc.
 * initial: the rules after the CIE's initial instructions (for DW_CFA_restore), undefined
 * while running those.
 */
function runProgram(
  prog: Buffer,
  cie: Cie,
  st: RowState,
  startLoc: bigint,
  pc: bigint,
  initial: Array<RegRule | undefined> | undefined,
): void {
  const c = new DwarfCursor(prog);
  let loc = startLoc;
  const stack: RowState[] = [];
  const set = (reg: number, rule: RegRule | undefined): void => {
    if (reg < DWARF_REGS) st.rules[reg] = rule;
  };
  const restore = (reg: number): void => set(reg, initial ? initial[reg] : undefined);
  const advance = (delta: number): boolean => {
    loc += BigInt(delta * cie.codeAlign);
    return loc > pc;
  };
  while (!c.done) {
    const op = c.u8();
    const high = op & 0xc0;
    const low = op & 0x3f;
    if (high === 0x40) {
      if (advance(low)) return;
      continue;
    }
    if (high === 0x80) {
      set(low, { kind: 'offset', n: c.uleb() * cie.dataAlign });
      continue;
    }
    if (high === 0xc0) {
      restore(low);
      continue;
    }
    switch (op) {
      case 0x00:
        break; // nop
      case 0x01: {
        // set_loc
        loc = c.encoded(cie.fdeEncoding);
        if (loc > pc) return;
        break;
      }
      case 0x02:
        if (advance(c.u8())) return;
        break;
      case 0x03:
        if (advance(c.u16())) return;
        break;
      case 0x04:
        if (advance(c.u32())) return;
        break;
      case 0x05: {
        const r = c.uleb();
        set(r, { kind: 'offset', n: c.uleb() * cie.dataAlign });
        break;
      }
      case 0x06:
        restore(c.uleb());
        break;
      case 0x07:
        set(c.uleb(), UNDEFINED);
        break;
      case 0x08:
        set(c.uleb(), SAME);
        break;
      case 0x09: {
        const r = c.uleb();
        set(r, { kind: 'register', reg: c.uleb() });
        break;
      }
      case 0x0a:
        stack.push({ cfa: st.cfa, rules: st.rules.slice() });
        break; // remember_state
      case 0x0b: {
        // restore_state
        const s = stack.pop();
        if (s) {
          st.cfa = s.cfa;
          st.rules = s.rules;
        }
        break;
      }
      case 0x0c: {
        const r = c.uleb();
        st.cfa = { kind: 'reg', reg: r, offset: c.uleb() };
        break;
      }
      case 0x0d:
        st.cfa = { kind: 'reg', reg: c.uleb(), offset: st.cfa.kind === 'reg' ? st.cfa.offset : 0 };
        break;
      case 0x0e:
        st.cfa = { kind: 'reg', reg: st.cfa.kind === 'reg' ? st.cfa.reg : RSP, offset: c.uleb() };
        break;
      case 0x0f: {
        const n = c.uleb();
        st.cfa = { kind: 'expr', expr: prog.subarray(c.pos, c.pos + n) };
        c.pos += n;
        break;
      }
      case 0x10: {
        const r = c.uleb();
        const n = c.uleb();
        set(r, { kind: 'expr', expr: prog.subarray(c.pos, c.pos + n) });
        c.pos += n;
        break;
      }
      case 0x11: {
        const r = c.uleb();
        set(r, { kind: 'offset', n: c.sleb() * cie.dataAlign });
        break;
      }
      case 0x12: {
        const r = c.uleb();
        st.cfa = { kind: 'reg', reg: r, offset: c.sleb() * cie.dataAlign };
        break;
      }
      case 0x13:
        st.cfa = { kind: 'reg', reg: st.cfa.kind === 'reg' ? st.cfa.reg : RSP, offset: c.sleb() * cie.dataAlign };
        break;
      case 0x14: {
        const r = c.uleb();
        set(r, { kind: 'valOffset', n: c.uleb() * cie.dataAlign });
        break;
      }
      case 0x15: {
        const r = c.uleb();
        set(r, { kind: 'valOffset', n: c.sleb() * cie.dataAlign });
        break;
      }
      case 0x16: {
        const r = c.uleb();
        const n = c.uleb();
        set(r, { kind: 'valExpr', expr: prog.subarray(c.pos, c.pos + n) });
        c.pos += n;
        break;
      }
      case 0x2e:
        c.uleb();
        break; // GNU_args_size: only matters to exception handling
      case 0x2f: {
        const r = c.uleb();
        set(r, { kind: 'offset', n: -c.uleb() * cie.dataAlign });
        break;
      }
      default:
        throw new RangeError(`unknown CFA instruction 0x${op.toString(16)}`);
    }
  }
}
