// The entries (DIEs) of one compilation unit of `.debug_info` that say where code was
// inlined: each DW_TAG_subprogram and DW_TAG_inlined_subroutine with the addresses it
// covers (low_pc/high_pc or DW_AT_ranges), where it was inlined from (call_file,
// call_line) and which function it is (abstract_origin / specification, then
// linkage_name or name). A unit is read only when a frame shown falls in it; DWARF 2-5
// forms (strx, addrx, rnglistx, ref_addr, implicit_const, data16...) are decoded
// (docs/native-unwinding.md §3).
import type { SectionReader } from './debug-sections.js';
import { DwarfCursor } from './dwarf-reader.js';

/** The sections a unit's entries point into; only info and abbrev are required. */
export interface DieSections {
  info: SectionReader;
  abbrev: Buffer;
  str?: Buffer;
  lineStr?: Buffer;
  strOffsets?: Buffer;
  addr?: Buffer;
  /** .debug_ranges (versions 2-4) */
  ranges?: Buffer;
  /** .debug_rnglists (version 5) */
  rnglists?: Buffer;
}

/** An inlined subroutine (or a function nested in another) that covers some code. */
export interface Scope {
  /** [start, end) link-time address pairs */
  ranges: number[];
  /** the enclosing scope's index in its function's list; -1 when the function itself encloses it */
  parent: number;
  /** false for a function of its own nested inside another (GNU C nested functions) */
  inlined: boolean;
  /** offset in .debug_info of the entry itself (its name is found from there) */
  die: number;
  /** where the inlined call is: an index into the unit's line-table file list, and a line */
  callFile: number;
  callLine: number;
}

/** A function with code (a DW_TAG_subprogram with addresses): a real frame. */
export interface FunctionScopes {
  ranges: number[];
  die: number;
  /** where its children start and end in .debug_info, until they are read */
  childrenAt?: number;
  end?: number;
  /** what was inlined into it, in the order met (parents before their children); read on first use */
  scopes?: Scope[];
}

/** A function's name as the entries give it: a linkage (mangled) name, or the plain name. */
export interface FunctionName {
  name: string;
  linkage: boolean;
}

export interface UnitFunctions {
  /** offset of the unit's line program in .debug_line, and its compilation directory */
  stmtList?: number;
  compDir?: string;
  /** in the order met */
  functions: FunctionScopes[];
}

const DW_TAG_inlined_subroutine = 0x1d;
const DW_TAG_subprogram = 0x2e;

const DW_AT_sibling = 0x01;
const DW_AT_name = 0x03;
const DW_AT_stmt_list = 0x10;
const DW_AT_low_pc = 0x11;
const DW_AT_high_pc = 0x12;
const DW_AT_comp_dir = 0x1b;
const DW_AT_abstract_origin = 0x31;
const DW_AT_specification = 0x47;
const DW_AT_ranges = 0x55;
const DW_AT_call_file = 0x58;
const DW_AT_call_line = 0x59;
const DW_AT_linkage_name = 0x6e;
const DW_AT_str_offsets_base = 0x72;
const DW_AT_addr_base = 0x73;
const DW_AT_rnglists_base = 0x74;
const DW_AT_MIPS_linkage_name = 0x2007;

const DW_FORM_addr = 0x01;
const DW_FORM_data2 = 0x05;
const DW_FORM_data4 = 0x06;
const DW_FORM_data8 = 0x07;
const DW_FORM_string = 0x08;
const DW_FORM_data1 = 0x0b;
const DW_FORM_sdata = 0x0d;
const DW_FORM_strp = 0x0e;
const DW_FORM_udata = 0x0f;
const DW_FORM_ref_addr = 0x10;
const DW_FORM_ref1 = 0x11;
const DW_FORM_ref2 = 0x12;
const DW_FORM_ref4 = 0x13;
const DW_FORM_ref8 = 0x14;
const DW_FORM_ref_udata = 0x15;
const DW_FORM_indirect = 0x16;
const DW_FORM_sec_offset = 0x17;
const DW_FORM_strx = 0x1a;
const DW_FORM_addrx = 0x1b;
const DW_FORM_line_strp = 0x1f;
const DW_FORM_implicit_const = 0x21;
const DW_FORM_rnglistx = 0x23;
const DW_FORM_strx1 = 0x25;
const DW_FORM_strx4 = 0x28;
const DW_FORM_addrx1 = 0x29;
const DW_FORM_addrx4 = 0x2c;

/** What a value is, once read: which table it still has to be looked up in. */
enum Kind {
  None,
  Number,
  /** an offset in .debug_info */
  Ref,
  /** an index into .debug_addr */
  AddrIndex,
  /** an offset in .debug_str / .debug_line_str, or an index into .debug_str_offsets */
  Str,
  LineStr,
  StrIndex,
  /** a string inline in the entry: its position in the unit's bytes */
  InlineStr,
  RangeIndex,
  /** a value that cannot be followed here (another file's, a block) */
  Unusable,
}

interface Abbrev {
  tag: number;
  children: boolean;
  /** attribute, form and implicit value, three numbers per attribute */
  attrs: number[];
  /** per attribute, its slot in Attrs; -1 for one not kept */
  slots: number[];
}

/** A unit's header, and the bases its entries' indexed forms are relative to. */
interface UnitHeader {
  offset: number;
  /** offset in .debug_info of the first entry */
  firstDie: number;
  end: number;
  version: number;
  offsetSize: number;
  addrSize: number;
  abbrevs: Map<number, Abbrev>;
  strOffsetsBase: number;
  addrBase: number;
  rnglistsBase: number;
  /** the unit's low_pc: the base of its version 2-4 ranges lists */
  base: number;
}

/** the attributes of one entry that matter here, kept as (kind, value) pairs */
class Attrs {
  readonly kind = new Uint8Array(16);
  readonly value = new Float64Array(16);
  /** the form high_pc was read with: an address, or an offset from low_pc */
  highPcIsOffset = false;
  clear(): void {
    this.kind.fill(Kind.None);
    this.highPcIsOffset = false;
  }
}

/** slots of Attrs */
const SLOT = new Map<number, number>([
  [DW_AT_name, 0],
  [DW_AT_stmt_list, 1],
  [DW_AT_low_pc, 2],
  [DW_AT_high_pc, 3],
  [DW_AT_comp_dir, 4],
  [DW_AT_abstract_origin, 5],
  [DW_AT_specification, 6],
  [DW_AT_ranges, 7],
  [DW_AT_call_file, 8],
  [DW_AT_call_line, 9],
  [DW_AT_linkage_name, 10],
  [DW_AT_MIPS_linkage_name, 10],
  [DW_AT_str_offsets_base, 11],
  [DW_AT_addr_base, 12],
  [DW_AT_rnglists_base, 13],
  [DW_AT_sibling, 14],
]);
const S_NAME = 0;
const S_STMT = 1;
const S_LOW = 2;
const S_HIGH = 3;
const S_COMP_DIR = 4;
const S_ORIGIN = 5;
const S_SPEC = 6;
const S_RANGES = 7;
const S_CALL_FILE = 8;
const S_CALL_LINE = 9;
const S_LINKAGE = 10;
const S_STR_BASE = 11;
const S_ADDR_BASE = 12;
const S_RNG_BASE = 13;
const S_SIBLING = 14;

/**
 * Entries whose children hold no code (types, variables, a function's declaration or its
 * abstract instance): stepped over through DW_AT_sibling when they have one.
 */
const NO_CODE_INSIDE = new Set([
  0x01, // array_type
  0x02, // class_type
  0x04, // enumeration_type
  0x05, // formal_parameter
  0x13, // structure_type
  0x15, // subroutine_type
  0x17, // union_type
  0x34, // variable
]);

/** how far a name is followed through abstract_origin and specification */
const MAX_NAME_HOPS = 8;
/** bytes read at an entry's offset to decode it alone (names are short) */
const ONE_ENTRY_BYTES = 1024;

export class DebugInfo {
  private readonly s: DieSections;
  private readonly abbrevTables = new Map<number, Map<number, Abbrev>>();
  private readonly headers = new Map<number, UnitHeader>();
  /** offsets of every unit, sorted: read on the first reference into another unit */
  private unitOffsets?: number[];
  private readonly names = new Map<number, FunctionName | null>();
  /** the number the last readValue read */
  private v = 0;

  constructor(sections: DieSections) {
    this.s = sections;
  }

  /**
   * The functions with code of the unit at `unit` (its offset in .debug_info). What is
   * inside each function is stepped over through DW_AT_sibling and read only when an
   * address falls in it (functionScopes).
   */
  unitFunctions(unit: number): UnitFunctions {
    const h = this.header(unit);
    const buf = this.s.info(h.firstDie, h.end - h.firstDie);
    const c = new DwarfCursor(buf, 0);
    const a = new Attrs();
    const functions: FunctionScopes[] = [];
    const out: UnitFunctions = { functions };
    const unitAb = h.abbrevs.get(c.uleb());
    if (!unitAb) return out;
    a.clear();
    this.readAttrs(c, unitAb, h, a, h.firstDie);
    this.unitBases(h, a, buf, out);
    if (!unitAb.children) return out;
    for (let depth = 1; c.pos < buf.length; ) {
      const die = h.firstDie + c.pos;
      const code = c.uleb();
      if (code === 0) {
        if (--depth === 0) break;
        continue;
      }
      const ab = this.abbrevOf(h, code, die);
      a.clear();
      this.readAttrs(c, ab, h, a, h.firstDie);
      const sibling = a.kind[S_SIBLING] === Kind.Ref && a.value[S_SIBLING] > die ? a.value[S_SIBLING] : undefined;
      if (ab.tag === DW_TAG_subprogram) {
        const ranges = this.rangesOf(h, a);
        if (ranges.length) {
          const f: FunctionScopes = { ranges, die };
          functions.push(f);
          if (!ab.children) f.scopes = [];
          else if (sibling !== undefined) {
            f.childrenAt = h.firstDie + c.pos;
            f.end = sibling;
            c.pos = sibling - h.firstDie;
          } else f.scopes = this.subtree(h, c, h.firstDie);
          continue;
        }
      }
      if (!ab.children) continue;
      // most of a unit is types and declarations: their children are stepped over whole
      if (sibling !== undefined && (NO_CODE_INSIDE.has(ab.tag) || ab.tag === DW_TAG_subprogram)) c.pos = sibling - h.firstDie;
      else depth++;
    }
    return out;
  }

  /** What was inlined into function f of the unit at `unit` (read once, then kept in f). */
  functionScopes(unit: number, f: FunctionScopes): Scope[] {
    if (f.scopes) return f.scopes;
    const h = this.header(unit);
    const at = f.childrenAt ?? f.die;
    const buf = this.s.info(at, (f.end ?? h.end) - at);
    f.scopes = this.subtree(h, new DwarfCursor(buf, 0), at);
    return f.scopes;
  }

  /**
   * Reads entries from c up to the end of the children list it is in (leaving c after its
   * terminator), keeping the inlined subroutines and nested functions with code.
   * base: the .debug_info offset of c.buf[0].
   */
  private subtree(h: UnitHeader, c: DwarfCursor, base: number): Scope[] {
    const buf = c.buf;
    const a = new Attrs();
    const scopes: Scope[] = [];
    // per open entry with children: the scope around its children
    const stack: number[] = [];
    let current = -1;
    while (c.pos < buf.length) {
      const die = base + c.pos;
      const code = c.uleb();
      if (code === 0) {
        if (stack.length === 0) break;
        current = stack.pop()!;
        continue;
      }
      const ab = this.abbrevOf(h, code, die);
      a.clear();
      this.readAttrs(c, ab, h, a, base);
      let self = current;
      let hasCode = false;
      if (ab.tag === DW_TAG_subprogram || ab.tag === DW_TAG_inlined_subroutine) {
        const ranges = this.rangesOf(h, a);
        if (ranges.length) {
          hasCode = true;
          const inlined = ab.tag === DW_TAG_inlined_subroutine;
          scopes.push({
            ranges,
            // a nested function with code is a function of its own: its chain stops there
            parent: inlined ? current : -1,
            inlined,
            die,
            callFile: a.kind[S_CALL_FILE] === Kind.Number ? a.value[S_CALL_FILE] : -1,
            callLine: a.kind[S_CALL_LINE] === Kind.Number ? a.value[S_CALL_LINE] : 0,
          });
          self = scopes.length - 1;
        }
      }
      if (!ab.children) continue;
      const noCode = NO_CODE_INSIDE.has(ab.tag) || (ab.tag === DW_TAG_subprogram && !hasCode);
      if (noCode && a.kind[S_SIBLING] === Kind.Ref && a.value[S_SIBLING] > die) {
        c.pos = a.value[S_SIBLING] - base;
        continue;
      }
      stack.push(current);
      current = self;
    }
    return scopes;
  }

  private abbrevOf(h: UnitHeader, code: number, die: number): Abbrev {
    const ab = h.abbrevs.get(code);
    if (!ab) throw new RangeError(`.debug_info entry at ${die}: abbreviation ${code} is not defined`);
    return ab;
  }

  /**
   * The function an entry stands for: its linkage name demangled by the caller when there
   * is one anywhere along abstract_origin / specification, else its name; null when none.
   */
  nameOf(die: number): FunctionName | null {
    const hit = this.names.get(die);
    if (hit !== undefined) return hit;
    let found: FunctionName | null = null;
    let at: number | undefined = die;
    for (let hops = 0; at !== undefined && hops < MAX_NAME_HOPS; hops++) {
      const e = this.entryAt(at);
      if (!e) break;
      if (e.linkage) {
        found = { name: e.linkage, linkage: true };
        break;
      }
      if (!found && e.name) found = { name: e.name, linkage: false };
      at = e.next;
    }
    this.names.set(die, found);
    return found;
  }

  /** One entry decoded alone: its names and where its abstract origin or specification is. */
  private entryAt(die: number): { name?: string; linkage?: string; next?: number } | undefined {
    const unit = this.unitOf(die);
    if (unit === undefined) return undefined;
    const h = this.header(unit);
    const buf = this.s.info(die, Math.min(ONE_ENTRY_BYTES, h.end - die));
    const c = new DwarfCursor(buf, 0);
    const ab = h.abbrevs.get(c.uleb());
    if (!ab) return undefined;
    const a = new Attrs();
    a.clear();
    this.readAttrs(c, ab, h, a, die);
    const next = a.kind[S_ORIGIN] === Kind.Ref ? a.value[S_ORIGIN] : a.kind[S_SPEC] === Kind.Ref ? a.value[S_SPEC] : undefined;
    return { name: this.stringOf(h, a, S_NAME, buf), linkage: this.stringOf(h, a, S_LINKAGE, buf), next };
  }

  /** The unit holding .debug_info offset `die`. */
  private unitOf(die: number): number | undefined {
    for (const h of this.headers.values()) if (die >= h.firstDie && die < h.end) return h.offset;
    const offsets = (this.unitOffsets ??= this.allUnitOffsets());
    let unit: number | undefined;
    for (const o of offsets) {
      if (o > die) break;
      unit = o;
    }
    return unit;
  }

  /** Every unit's offset, from their headers' lengths (no entry is read). */
  private allUnitOffsets(): number[] {
    const out: number[] = [];
    for (let at = 0; ; ) {
      const b = this.s.info(at, 12);
      if (b.length < 4) return out;
      let len = b.readUInt32LE(0);
      let hdr = 4;
      if (len === 0xffffffff) {
        if (b.length < 12) return out;
        len = Number(b.readBigUInt64LE(4));
        hdr = 12;
      }
      if (len === 0) return out;
      out.push(at);
      at += hdr + len;
    }
  }

  private header(unit: number): UnitHeader {
    const known = this.headers.get(unit);
    if (known) return known;
    const c = new DwarfCursor(this.s.info(unit, 32));
    const { length, offsetSize } = c.initialLength();
    const end = unit + c.pos + length;
    const version = c.u16();
    if (version < 2 || version > 5) throw new RangeError(`.debug_info unit at ${unit}: version ${version} is not known`);
    let abbrevAt: number;
    let addrSize: number;
    if (version >= 5) {
      const type = c.u8();
      addrSize = c.u8();
      abbrevAt = offsetSize === 8 ? u64(c) : c.u32();
      // skeleton and split units carry a unit id; type units a signature and an offset
      if (type === 4 || type === 5) c.pos += 8;
      else if (type === 2 || type === 6) c.pos += 8 + offsetSize;
    } else {
      abbrevAt = offsetSize === 8 ? u64(c) : c.u32();
      addrSize = c.u8();
    }
    const h: UnitHeader = {
      offset: unit,
      firstDie: unit + c.pos,
      end,
      version,
      offsetSize,
      addrSize,
      abbrevs: this.abbrevTable(abbrevAt),
      // DWARF 5's defaults when the unit entry gives no base: just past the tables' headers
      strOffsetsBase: offsetSize === 8 ? 16 : 8,
      addrBase: 8,
      rnglistsBase: offsetSize === 8 ? 20 : 12,
      base: 0,
    };
    // the unit entry's bases, which its other entries' indexed forms need
    const buf = this.s.info(h.firstDie, Math.min(ONE_ENTRY_BYTES * 4, end - h.firstDie));
    const dc = new DwarfCursor(buf, 0);
    const ab = h.abbrevs.get(dc.uleb());
    this.headers.set(unit, h);
    if (ab) {
      const a = new Attrs();
      a.clear();
      this.readAttrs(dc, ab, h, a, h.firstDie);
      this.unitBases(h, a, buf, undefined);
    }
    return h;
  }

  /** Takes the unit entry's bases (str_offsets, addr, rnglists, low_pc) and, for out, its line program. */
  private unitBases(h: UnitHeader, a: Attrs, buf: Buffer, out: UnitFunctions | undefined): void {
    if (a.kind[S_STR_BASE] === Kind.Number) h.strOffsetsBase = a.value[S_STR_BASE];
    if (a.kind[S_ADDR_BASE] === Kind.Number) h.addrBase = a.value[S_ADDR_BASE];
    if (a.kind[S_RNG_BASE] === Kind.Number) h.rnglistsBase = a.value[S_RNG_BASE];
    const low = this.address(h, a, S_LOW);
    if (low !== undefined) h.base = low;
    if (!out) return;
    if (a.kind[S_STMT] === Kind.Number) out.stmtList = a.value[S_STMT];
    const dir = this.stringOf(h, a, S_COMP_DIR, buf);
    if (dir !== undefined) out.compDir = dir;
  }

  private abbrevTable(at: number): Map<number, Abbrev> {
    let t = this.abbrevTables.get(at);
    if (t) return t;
    t = new Map();
    const c = new DwarfCursor(this.s.abbrev, at);
    while (!c.done) {
      const code = c.uleb();
      if (code === 0) break;
      const tag = c.uleb();
      const children = c.u8() !== 0;
      const attrs: number[] = [];
      for (;;) {
        const name = c.uleb();
        const form = c.uleb();
        if (name === 0 && form === 0) break;
        attrs.push(name, form, form === DW_FORM_implicit_const ? c.sleb() : 0);
      }
      const slots: number[] = [];
      for (let i = 0; i < attrs.length; i += 3) slots.push(SLOT.get(attrs[i]) ?? -1);
      t.set(code, { tag, children, attrs, slots });
    }
    this.abbrevTables.set(at, t);
    return t;
  }

  /** Reads an entry's attribute values; those in SLOT are kept in a. bufBase: .debug_info offset of c.buf[0]. */
  private readAttrs(c: DwarfCursor, ab: Abbrev, h: UnitHeader, a: Attrs, bufBase: number): void {
    const attrs = ab.attrs;
    for (let i = 0; i < attrs.length; i += 3) {
      const slot = ab.slots[i / 3];
      let form = attrs[i + 1];
      if (form === DW_FORM_indirect) form = c.uleb();
      const kind = this.readValue(c, form, attrs[i + 2], h, bufBase);
      if (slot < 0) continue;
      a.kind[slot] = kind;
      a.value[slot] = this.v;
      if (slot === S_HIGH) a.highPcIsOffset = kind === Kind.Number && form !== DW_FORM_addr;
    }
  }

  /** One value of the given form: its kind returned, its number left in this.v; forms kept as bytes are stepped over. */
  private readValue(c: DwarfCursor, form: number, implicit: number, h: UnitHeader, bufBase: number): Kind {
    // no closures and no BigInt here: this runs for every attribute of a unit
    switch (form) {
      case DW_FORM_addr:
        this.v = h.addrSize === 8 ? u64(c) : c.u32();
        return Kind.Number;
      case DW_FORM_data1:
      case 0x0c: // flag
        this.v = c.u8();
        return Kind.Number;
      case DW_FORM_data2:
        this.v = c.u16();
        return Kind.Number;
      case DW_FORM_data4:
        this.v = c.u32();
        return Kind.Number;
      case DW_FORM_data8:
        this.v = u64(c);
        return Kind.Number;
      case DW_FORM_sdata:
        this.v = c.sleb();
        return Kind.Number;
      case DW_FORM_udata:
        this.v = c.uleb();
        return Kind.Number;
      case DW_FORM_implicit_const:
        this.v = implicit;
        return Kind.Number;
      case DW_FORM_sec_offset:
        this.v = offset(c, h.offsetSize);
        return Kind.Number;
      case DW_FORM_string: {
        const at = c.pos;
        const end = c.buf.indexOf(0, at);
        c.pos = end < 0 ? c.buf.length : end + 1;
        this.v = at;
        return Kind.InlineStr;
      }
      case DW_FORM_strp:
        this.v = offset(c, h.offsetSize);
        return Kind.Str;
      case DW_FORM_line_strp:
        this.v = offset(c, h.offsetSize);
        return Kind.LineStr;
      case DW_FORM_strx:
        this.v = c.uleb();
        return Kind.StrIndex;
      case DW_FORM_strx1:
        this.v = c.u8();
        return Kind.StrIndex;
      case 0x26: // strx2
        this.v = c.u16();
        return Kind.StrIndex;
      case 0x27: // strx3
        this.v = c.u16() + c.u8() * 0x10000;
        return Kind.StrIndex;
      case DW_FORM_strx4:
        this.v = c.u32();
        return Kind.StrIndex;
      case DW_FORM_addrx:
        this.v = c.uleb();
        return Kind.AddrIndex;
      case DW_FORM_addrx1:
        this.v = c.u8();
        return Kind.AddrIndex;
      case 0x2a: // addrx2
        this.v = c.u16();
        return Kind.AddrIndex;
      case 0x2b: // addrx3
        this.v = c.u16() + c.u8() * 0x10000;
        return Kind.AddrIndex;
      case DW_FORM_addrx4:
        this.v = c.u32();
        return Kind.AddrIndex;
      case DW_FORM_rnglistx:
        this.v = c.uleb();
        return Kind.RangeIndex;
      case DW_FORM_ref1:
        this.v = h.offset + c.u8();
        return Kind.Ref;
      case DW_FORM_ref2:
        this.v = h.offset + c.u16();
        return Kind.Ref;
      case DW_FORM_ref4:
        this.v = h.offset + c.u32();
        return Kind.Ref;
      case DW_FORM_ref8:
        this.v = h.offset + u64(c);
        return Kind.Ref;
      case DW_FORM_ref_udata:
        this.v = h.offset + c.uleb();
        return Kind.Ref;
      case DW_FORM_ref_addr:
        // an address-sized value in version 2, an offset later
        this.v = h.version <= 2 ? (h.addrSize === 8 ? u64(c) : c.u32()) : offset(c, h.offsetSize);
        return Kind.Ref;
      case 0x1c: // ref_sup4
        c.pos += 4;
        this.v = 0;
        return Kind.Unusable;
      case 0x24: // ref_sup8
      case 0x20: // ref_sig8: a type unit's signature
        c.pos += 8;
        this.v = 0;
        return Kind.Unusable;
      case 0x1e: // data16
        c.pos += 16;
        this.v = 0;
        return Kind.Unusable;
      case 0x19: // flag_present
        this.v = 1;
        return Kind.Number;
      case 0x1d: // strp_sup
      case 0x1f20: // GNU_ref_alt: in the dwz alternate file
      case 0x1f21: // GNU_strp_alt
        offset(c, h.offsetSize);
        this.v = 0;
        return Kind.Unusable;
      case 0x0a: // block1
        c.pos = blockEnd(c, c.u8());
        this.v = 0;
        return Kind.Unusable;
      case 0x03: // block2
        c.pos = blockEnd(c, c.u16());
        this.v = 0;
        return Kind.Unusable;
      case 0x04: // block4
        c.pos = blockEnd(c, c.u32());
        this.v = 0;
        return Kind.Unusable;
      case 0x09: // block
      case 0x18: // exprloc
        c.pos = blockEnd(c, c.uleb());
        this.v = 0;
        return Kind.Unusable;
      case 0x22: // loclistx
      case 0x1f01: // GNU_addr_index (split DWARF)
      case 0x1f02: // GNU_str_index
        c.uleb();
        this.v = 0;
        return Kind.Unusable;
      default:
        throw new RangeError(`.debug_info at ${bufBase + c.pos}: form 0x${form.toString(16)} is not known`);
    }
  }

  /** An address attribute's value, through .debug_addr for addrx forms. */
  private address(h: UnitHeader, a: Attrs, slot: number): number | undefined {
    if (a.kind[slot] === Kind.Number) return a.value[slot];
    if (a.kind[slot] === Kind.AddrIndex) return this.indexedAddress(h, a.value[slot]);
    return undefined;
  }

  private indexedAddress(h: UnitHeader, index: number): number | undefined {
    const at = h.addrBase + index * h.addrSize;
    const addr = this.s.addr;
    if (!addr || at + h.addrSize > addr.length) return undefined;
    return h.addrSize === 8 ? Number(addr.readBigUInt64LE(at)) : addr.readUInt32LE(at);
  }

  /** A string attribute's value. buf: the bytes the entry was read from (inline strings). */
  private stringOf(h: UnitHeader, a: Attrs, slot: number, buf: Buffer): string | undefined {
    const v = a.value[slot];
    switch (a.kind[slot]) {
      case Kind.InlineStr:
        return cstrAt(buf, v);
      case Kind.Str:
        return cstrAt(this.s.str, v);
      case Kind.LineStr:
        return cstrAt(this.s.lineStr, v);
      case Kind.StrIndex: {
        const t = this.s.strOffsets;
        const at = h.strOffsetsBase + v * h.offsetSize;
        if (!t || at + h.offsetSize > t.length) return undefined;
        return cstrAt(this.s.str, h.offsetSize === 8 ? Number(t.readBigUInt64LE(at)) : t.readUInt32LE(at));
      }
      default:
        return undefined;
    }
  }

  /** The [start, end) pairs an entry covers: low_pc/high_pc, or its ranges list. */
  private rangesOf(h: UnitHeader, a: Attrs): number[] {
    const low = this.address(h, a, S_LOW);
    if (low !== undefined && a.kind[S_HIGH] !== Kind.None) {
      const high = a.highPcIsOffset ? low + a.value[S_HIGH] : this.address(h, a, S_HIGH);
      // a function the linker threw away keeps address 0
      return high !== undefined && high > low && low > 0 ? [low, high] : [];
    }
    if (a.kind[S_RANGES] === Kind.Number) {
      return h.version >= 5 ? this.rangeList(h, a.value[S_RANGES]) : this.oldRanges(h, a.value[S_RANGES]);
    }
    if (a.kind[S_RANGES] === Kind.RangeIndex) {
      const t = this.s.rnglists;
      const at = h.rnglistsBase + a.value[S_RANGES] * h.offsetSize;
      if (!t || at + h.offsetSize > t.length) return [];
      const rel = h.offsetSize === 8 ? Number(t.readBigUInt64LE(at)) : t.readUInt32LE(at);
      return this.rangeList(h, h.rnglistsBase + rel);
    }
    return [];
  }

  /** A .debug_ranges list (versions 2-4): address pairs relative to a base, (0, 0) at its end. */
  private oldRanges(h: UnitHeader, at: number): number[] {
    const t = this.s.ranges;
    if (!t) return [];
    const out: number[] = [];
    const c = new DwarfCursor(t, at);
    const max = h.addrSize === 8 ? 2 ** 64 - 1 : 0xffffffff;
    const read = () => (h.addrSize === 8 ? u64(c) : c.u32());
    let base = h.base;
    while (c.pos + 2 * h.addrSize <= t.length) {
      const start = read();
      const end = read();
      if (start === 0 && end === 0) break;
      if (start === max) base = end;
      else if (end > start && base + start > 0) out.push(base + start, base + end);
    }
    return out;
  }

  /** A .debug_rnglists list (version 5): DW_RLE_* entries up to end_of_list. */
  private rangeList(h: UnitHeader, at: number): number[] {
    const t = this.s.rnglists;
    if (!t) return [];
    const out: number[] = [];
    const c = new DwarfCursor(t, at);
    const addr = () => (h.addrSize === 8 ? u64(c) : c.u32());
    const indexed = (i: number) => this.indexedAddress(h, i) ?? 0;
    let base = h.base;
    const push = (start: number, end: number) => {
      if (end > start && start > 0) out.push(start, end);
    };
    while (c.pos < t.length) {
      const kind = c.u8();
      if (kind === 0) break; // end_of_list
      if (kind === 1)
        base = indexed(c.uleb()); // base_addressx
      else if (kind === 2)
        push(indexed(c.uleb()), indexed(c.uleb())); // startx_endx
      else if (kind === 3) {
        // startx_length
        const s = indexed(c.uleb());
        push(s, s + c.uleb());
      } else if (kind === 4) {
        // offset_pair
        const s = c.uleb();
        push(base + s, base + c.uleb());
      } else if (kind === 5)
        base = addr(); // base_address
      else if (kind === 6)
        push(addr(), addr()); // start_end
      else if (kind === 7) {
        // start_length
        const s = addr();
        push(s, s + c.uleb());
      } else throw new RangeError(`.debug_rnglists at ${c.pos - 1}: entry kind ${kind} is not known`);
    }
    return out;
  }
}

function cstrAt(buf: Buffer | undefined, at: number): string | undefined {
  if (!buf || at >= buf.length) return undefined;
  const end = buf.indexOf(0, at);
  return buf.toString('utf8', at, end < 0 ? buf.length : end);
}

/** Where a block ends whose length was just read (`c.pos += c.u8()` would add the length to the position from before it). */
function blockEnd(c: DwarfCursor, length: number): number {
  return c.pos + length;
}

/** An 8-byte value as a Number (addresses and offsets fit), without a BigInt. */
function u64(c: DwarfCursor): number {
  const lo = c.u32();
  return lo + c.u32() * 2 ** 32;
}

/** A section offset: 4 or 8 bytes. */
function offset(c: DwarfCursor, size: number): number {
  return size === 8 ? u64(c) : c.u32();
}
