// Which compilation unit holds an address, without reading all of `.debug_info`:
// `.debug_aranges` maps address ranges to units, and the unit's first entry (its
// DW_TAG_compile_unit, decoded through `.debug_abbrev`) says where its line program is
// (DW_AT_stmt_list) and its compilation directory (DW_AT_comp_dir)
// (docs/native-unwinding.md §3).
import type { SectionReader } from './debug-sections.js';
import { DwarfCursor } from './dwarf-reader.js';
import { lastAtOrBelow } from '../sorted.js';

export interface UnitLines {
  /** offset of the unit's line program in .debug_line */
  stmtList: number;
  /** the directory the unit was compiled in, when the entry names it plainly */
  compDir?: string;
}

/** Where a line program covers what: the unit index as module-index.ts stores it. */
export interface UnitRanges {
  /** address ranges, sorted by start */
  starts: Float64Array;
  ends: Float64Array;
  /** per range: its unit's line program offset in .debug_line (-1: the unit names none) */
  stmtList: Float64Array;
  /** per range: its unit's compilation directory ('' when not known) */
  compDir: string[];
}

/** Which unit's line program covers an address. */
export interface UnitLookup {
  linesAt(pc: number): UnitLines | undefined;
}

/** The unit index read back from a stored module index. */
export class StoredUnits implements UnitLookup {
  readonly r: UnitRanges;

  constructor(r: UnitRanges) {
    this.r = r;
  }

  linesAt(pc: number): UnitLines | undefined {
    const i = lastAtOrBelow(this.r.starts, pc);
    if (i < 0 || pc >= this.r.ends[i] || this.r.stmtList[i] < 0) return undefined;
    return { stmtList: this.r.stmtList[i], compDir: this.r.compDir[i] || undefined };
  }
}

export interface DebugInfoSections {
  aranges: Buffer;
  abbrev: Buffer;
  /** .debug_info, read a piece at a time */
  info: SectionReader;
  str?: Buffer;
  lineStr?: Buffer;
}

const DW_AT_stmt_list = 0x10;
const DW_AT_comp_dir = 0x1b;
const DW_FORM_string = 0x08;
const DW_FORM_strp = 0x0e;
const DW_FORM_line_strp = 0x1f;
const DW_FORM_indirect = 0x16;
const DW_FORM_implicit_const = 0x21;
/** enough for a unit header and its first entry (a producer string inline in it can take a few hundred bytes) */
const FIRST_ENTRY_BYTES = 4096;

export class CompileUnits implements UnitLookup {
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private readonly units: Float64Array;
  private readonly lines = new Map<number, UnitLines | null>();
  /** the sections read (decompressed) for it: the inlined-function index reads the same ones (inlined.ts) */
  readonly s: DebugInfoSections;

  constructor(sections: DebugInfoSections) {
    this.s = sections;
    const ranges: Array<[number, number, number]> = [];
    const buf = sections.aranges;
    for (let at = 0; at + 4 <= buf.length; ) {
      const c = new DwarfCursor(buf, at);
      const { length, offsetSize } = c.initialLength();
      const end = c.pos + length;
      c.u16(); // version 2
      const unit = offsetSize === 8 ? Number(c.u64()) : c.u32();
      const addrSize = c.u8();
      c.u8(); // segment selector size
      // the tuples start at a multiple of twice the address size
      const tuple = 2 * addrSize;
      c.pos = at + Math.ceil((c.pos - at) / tuple) * tuple;
      while (c.pos + tuple <= end) {
        const start = addrSize === 8 ? Number(c.u64()) : c.u32();
        const len = addrSize === 8 ? Number(c.u64()) : c.u32();
        if (start === 0 && len === 0) break;
        if (start > 0 && len > 0) ranges.push([start, start + len, unit]);
      }
      at = end;
    }
    ranges.sort((a, b) => a[0] - b[0]);
    this.starts = Float64Array.from(ranges, (r) => r[0]);
    this.ends = Float64Array.from(ranges, (r) => r[1]);
    this.units = Float64Array.from(ranges, (r) => r[2]);
  }

  get size(): number {
    return this.starts.length;
  }

  /** The offset in .debug_info of the unit holding link-time address pc, or undefined. */
  unitAt(pc: number): number | undefined {
    const hi = lastAtOrBelow(this.starts, pc);
    return hi < 0 || pc >= this.ends[hi] ? undefined : this.units[hi];
  }

  /**
   * The units unitAt answers for some address in [start, end); bound is told every start
   * and end of their ranges (where unitAt's answer may change).
   */
  unitsIn(start: number, end: number, bound: (x: number) => void): Set<number> {
    const out = new Set<number>();
    for (let i = Math.max(0, lastAtOrBelow(this.starts, start)); i < this.starts.length && this.starts[i] < end; i++) {
      if (this.ends[i] <= start) continue;
      out.add(this.units[i]);
      bound(this.starts[i]);
      bound(this.ends[i]);
    }
    return out;
  }

  /** The line program of the unit holding link-time address pc, or undefined. */
  linesAt(pc: number): UnitLines | undefined {
    const unit = this.unitAt(pc);
    if (unit === undefined) return undefined;
    let found = this.lines.get(unit);
    if (found === undefined) {
      found = this.readUnit(unit) ?? null;
      this.lines.set(unit, found);
    }
    return found ?? undefined;
  }

  /** Every range with its unit's line program and directory (each unit's first entry read). */
  ranges(): UnitRanges {
    const stmtList = new Float64Array(this.starts.length);
    const compDir: string[] = [];
    for (let i = 0; i < this.starts.length; i++) {
      const u = this.linesAt(this.starts[i]);
      stmtList[i] = u ? u.stmtList : -1;
      compDir.push(u?.compDir ?? '');
    }
    return { starts: this.starts, ends: this.ends, stmtList, compDir };
  }

  /** The unit's header and first entry: DW_AT_stmt_list and DW_AT_comp_dir. */
  private readUnit(unit: number): UnitLines | undefined {
    const c = new DwarfCursor(this.s.info(unit, FIRST_ENTRY_BYTES));
    const { offsetSize } = c.initialLength();
    const version = c.u16();
    let abbrevAt: number;
    let addrSize: number;
    if (version >= 5) {
      c.u8(); // unit_type
      addrSize = c.u8();
      abbrevAt = offsetSize === 8 ? Number(c.u64()) : c.u32();
    } else {
      abbrevAt = offsetSize === 8 ? Number(c.u64()) : c.u32();
      addrSize = c.u8();
    }
    const code = c.uleb();
    const attrs = findAbbrev(this.s.abbrev, abbrevAt, code);
    if (!attrs) return undefined;
    const out: Partial<UnitLines> = {};
    for (const [name, formIn, implicit] of attrs) {
      let form = formIn;
      if (form === DW_FORM_indirect) form = c.uleb();
      if (name === DW_AT_stmt_list) {
        out.stmtList = form === DW_FORM_implicit_const ? implicit : readUnsigned(c, form, offsetSize);
      } else if (name === DW_AT_comp_dir && (form === DW_FORM_string || form === DW_FORM_strp || form === DW_FORM_line_strp)) {
        out.compDir =
          form === DW_FORM_string
            ? c.cstr()
            : cstrAt(form === DW_FORM_strp ? this.s.str : this.s.lineStr, offsetSize === 8 ? Number(c.u64()) : c.u32());
      } else skipForm(c, form, offsetSize, addrSize, version);
    }
    return out.stmtList === undefined ? undefined : (out as UnitLines);
  }
}

/** The (attribute, form, implicit value) list of abbreviation `code` in the table at `at`. */
function findAbbrev(abbrev: Buffer, at: number, code: number): Array<[number, number, number]> | undefined {
  const c = new DwarfCursor(abbrev, at);
  while (!c.done) {
    const got = c.uleb();
    if (got === 0) return undefined; // the table's end
    c.uleb(); // tag
    c.u8(); // has children
    const attrs: Array<[number, number, number]> = [];
    for (;;) {
      const name = c.uleb();
      const form = c.uleb();
      if (name === 0 && form === 0) break;
      attrs.push([name, form, form === DW_FORM_implicit_const ? c.sleb() : 0]);
    }
    if (got === code) return attrs;
  }
  return undefined;
}

function readUnsigned(c: DwarfCursor, form: number, offsetSize: number): number | undefined {
  switch (form) {
    case 0x17: // sec_offset
      return offsetSize === 8 ? Number(c.u64()) : c.u32();
    case 0x06: // data4 (versions 2-3)
      return c.u32();
    case 0x07: // data8
      return Number(c.u64());
    case 0x0f: // udata
      return c.uleb();
    default:
      return undefined;
  }
}

function cstrAt(buf: Buffer | undefined, at: number): string | undefined {
  if (!buf || at >= buf.length) return undefined;
  const end = buf.indexOf(0, at);
  return buf.toString('utf8', at, end < 0 ? buf.length : end);
}

/** forms whose values have a fixed size, and that size */
const FIXED_FORM_SIZES = new Map<number, number>([
  [0x05, 2], // data2
  [0x06, 4], // data4
  [0x07, 8], // data8
  [0x0b, 1], // data1
  [0x0c, 1], // flag
  [0x11, 1], // ref1
  [0x12, 2], // ref2
  [0x13, 4], // ref4
  [0x14, 8], // ref8
  [0x19, 0], // flag_present
  [0x1c, 4], // ref_sup4
  [0x1e, 16], // data16
  [0x20, 8], // ref_sig8
  [0x21, 0], // implicit_const: the value is in the abbreviation
  [0x24, 8], // ref_sup8
  [0x25, 1], // strx1
  [0x26, 2], // strx2
  [0x27, 3], // strx3
  [0x28, 4], // strx4
  [0x29, 1], // addrx1
  [0x2a, 2], // addrx2
  [0x2b, 3], // addrx3
  [0x2c, 4], // addrx4
]);

/** Steps over one attribute value of the given form (DWARF 2-5 and the GNU extensions). */
export function skipForm(c: DwarfCursor, form: number, offsetSize: number, addrSize: number, version: number): void {
  const n = FIXED_FORM_SIZES.get(form);
  if (n !== undefined) {
    c.pos += n;
    return;
  }
  switch (form) {
    case 0x01: // addr
      c.pos += addrSize;
      return;
    case 0x0e: // strp
    case 0x17: // sec_offset
    case 0x1d: // strp_sup
    case 0x1f: // line_strp
    case 0x1f20: // GNU_ref_alt
    case 0x1f21: // GNU_strp_alt
      c.pos += offsetSize;
      return;
    case 0x10: // ref_addr: an address-sized value in version 2
      c.pos += version <= 2 ? addrSize : offsetSize;
      return;
    case 0x08: // string
      c.cstr();
      return;
    case 0x0a: // block1
      c.pos = blockEnd(c, c.u8());
      return;
    case 0x03: // block2
      c.pos = blockEnd(c, c.u16());
      return;
    case 0x04: // block4
      c.pos = blockEnd(c, c.u32());
      return;
    case 0x09: // block
    case 0x18: // exprloc
      c.pos = blockEnd(c, c.uleb());
      return;
    case 0x0d: // sdata
      c.sleb();
      return;
    case 0x0f: // udata
    case 0x15: // ref_udata
    case 0x1a: // strx
    case 0x1b: // addrx
    case 0x22: // loclistx
    case 0x23: // rnglistx
    case 0x1f01: // GNU_addr_index
    case 0x1f02: // GNU_str_index
      c.uleb();
      return;
    case DW_FORM_indirect:
      skipForm(c, c.uleb(), offsetSize, addrSize, version);
      return;
    default:
      throw new RangeError(`.debug_info: form 0x${form.toString(16)} is not known`);
  }
}

/** Where a block ends whose length was just read (`c.pos += c.u8()` would add the length to the position from before it). */
function blockEnd(c: DwarfCursor, length: number): number {
  return c.pos + length;
}
