// Source lines of native code from DWARF `.debug_line` (versions 2 to 5): which file and
// line a machine address was compiled from. The unit that covers an address comes from
// `.debug_aranges` (compile-units.ts); without it, one pass over every unit's line
// program keeps where each address sequence starts and ends. A lookup then runs that one
// unit's program and keeps only the rows of the function asked about, so no library's
// whole row table is ever held in memory (docs/native-unwinding.md §3).
import { posix } from 'node:path';
import type { ElfFile } from '../proc/elf.js';
import { CompileUnits, StoredUnits, type UnitLookup, type UnitRanges } from './compile-units.js';
import { debugSection, debugSectionReader } from './debug-sections.js';
import { DwarfCursor } from './dwarf-reader.js';
import type { PooledFile } from './file-pool.js';
import { lastAtOrBelow } from '../sorted.js';

export interface SourceLine {
  /** the source file as the compiler named it, joined to its directory */
  file: string;
  line: number;
}

/** Rows of a line table: each holds from its address up to the next one's. */
export interface LineRows {
  /** ascending */
  addr: ArrayLike<number>;
  /** 0: no line from this address (between sequences, or a file the unit does not list) */
  line: ArrayLike<number>;
  file: ArrayLike<string>;
}

/** The file and line rows give link-time address pc, or undefined. */
export function lineAt(rows: LineRows, pc: number): SourceLine | undefined {
  const i = lastAtOrBelow(rows.addr, pc);
  return i >= 0 && rows.line[i] > 0 ? { file: rows.file[i], line: rows.line[i] } : undefined;
}

/** The program parameters of one unit's header, and where its file tables are. */
interface UnitHeader {
  version: number;
  /** 4 or 8: the size of section offsets (32- or 64-bit DWARF) */
  offsetSize: number;
  /** where the directory/file tables start, and where the program starts and ends */
  tablesAt: number;
  programAt: number;
  end: number;
  minInst: number;
  lineBase: number;
  lineRange: number;
  opcodeBase: number;
  /** operands (LEB128 numbers) of each standard opcode, for the ones skipped */
  stdLengths: number[];
}

interface FileTable {
  /** full path per file index (index 0 unused before version 5) */
  files: string[];
}

const DW_LNS_copy = 1;
const DW_LNS_advance_pc = 2;
const DW_LNS_advance_line = 3;
const DW_LNS_set_file = 4;
const DW_LNS_const_add_pc = 8;
const DW_LNS_fixed_advance_pc = 9;
const DW_LNE_end_sequence = 1;
const DW_LNE_set_address = 2;
const DW_LNCT_path = 1;
const DW_LNCT_directory_index = 2;

/** Called per row of a line program; end marks the address one past a sequence. Returns true to stop. */
type RowVisitor = (addr: number, file: number, line: number, end: boolean) => boolean | undefined;

interface SequenceIndex {
  /** per address sequence, sorted by start: [start, end) and the offset of its unit */
  start: Float64Array;
  end: Float64Array;
  unit: Float64Array;
}

export class LineTable {
  private readonly line: Buffer;
  readonly lineStr?: Buffer;
  readonly str?: Buffer;
  /** the unit index: from .debug_aranges (CompileUnits, whose sections inlined.ts shares) or stored */
  readonly units?: UnitLookup;
  private sequences?: SequenceIndex;
  private readonly fileTables = new Map<number, FileTable>();

  /**
   * line: the .debug_line section; lineStr and str: .debug_line_str and .debug_str, which
   * version 5 names point into; units: the unit index from .debug_aranges (or stored), when there is one.
   */
  constructor(line: Buffer, lineStr?: Buffer, str?: Buffer, units?: UnitLookup) {
    this.line = line;
    this.lineStr = lineStr;
    this.str = str;
    this.units = units;
  }

  /**
   * The rows of the unit covering link-time address pc that hold addresses in [start,
   * end) (a function's range), sorted, the first cut to start at start; undefined when no
   * unit covers pc. Looked up with lineAt; module-index.ts keeps them per function.
   */
  rowsIn(pc: number, start: number, end: number): LineRows | undefined {
    let unit: number | undefined;
    let compDir: string | undefined;
    if (this.units) {
      const u = this.units.linesAt(pc);
      unit = u?.stmtList;
      compDir = u?.compDir;
    } else unit = this.sequenceUnit(pc);
    if (unit === undefined || unit >= this.line.length) return undefined;
    const h = this.header(unit);
    const files = this.files(unit, h, compDir).files;
    const found: Array<[number, number, number]> = [];
    // a row holds from its address up to the next row's, within one sequence
    let prevAddr = -1;
    let prevFile = 0;
    let prevLine = 0;
    this.run(h, (addr, file, line, endSeq) => {
      if (prevAddr >= 0 && addr > prevAddr && prevAddr < end && addr > start) {
        found.push([Math.max(prevAddr, start), prevFile, prevLine]);
        // a sequence's end inside the range: no line from there until another sequence starts
        if (endSeq && addr < end) found.push([addr, 0, 0]);
      }
      prevAddr = endSeq ? -1 : addr;
      prevFile = file;
      prevLine = line;
      return false;
    });
    // units list sequences in any order; at one address a row wins over a sequence's end
    found.sort((a, b) => a[0] - b[0] || a[2] - b[2]);
    const names = found.map(([, file, line]) => (line > 0 ? files[file] : undefined));
    return {
      addr: found.map((r) => r[0]),
      line: found.map((r, i) => (names[i] ? r[2] : 0)),
      file: names.map((n) => n ?? ''),
    };
  }

  /**
   * Which unit covers what, for module-index.ts to store (then a later run opens only
   * .debug_line and its strings): every unit's first entry is read, or, without
   * .debug_aranges, every unit's program run once.
   */
  unitRanges(): UnitRanges {
    if (this.units instanceof CompileUnits) return this.units.ranges();
    if (this.units instanceof StoredUnits) return this.units.r;
    const seq = (this.sequences ??= this.indexSequences());
    return { starts: seq.start, ends: seq.end, stmtList: seq.unit, compDir: Array.from(seq.start, () => '') };
  }

  /**
   * File `index` of the line program at `unit` (as its file register, and DW_AT_call_file,
   * number them), joined to its directory; compDir: the unit's compilation directory.
   */
  fileName(unit: number, index: number, compDir?: string): string | undefined {
    if (unit >= this.line.length) return undefined;
    const t = this.fileTables.get(unit) ?? this.files(unit, this.header(unit), compDir);
    return t.files[index] || undefined;
  }

  /** The unit whose sequences cover pc, from one pass over every unit (built on first use). */
  private sequenceUnit(pc: number): number | undefined {
    const seq = (this.sequences ??= this.indexSequences());
    const hi = lastAtOrBelow(seq.start, pc);
    return hi >= 0 && pc < seq.end[hi] ? seq.unit[hi] : undefined;
  }

  private indexSequences(): SequenceIndex {
    const line = this.line;
    const seqs: Array<[number, number, number]> = [];
    for (let at = 0; at < line.length; ) {
      const h = this.header(at);
      let start = -1;
      this.run(h, (addr, _file, _line, end) => {
        if (start < 0) start = addr;
        if (end) {
          // a sequence at 0 belongs to a function the linker threw away
          if (start > 0 && addr > start) seqs.push([start, addr, at]);
          start = -1;
        }
        return false;
      });
      at = h.end;
    }
    seqs.sort((a, b) => a[0] - b[0]);
    return {
      start: Float64Array.from(seqs, (s) => s[0]),
      end: Float64Array.from(seqs, (s) => s[1]),
      unit: Float64Array.from(seqs, (s) => s[2]),
    };
  }

  private header(at: number): UnitHeader {
    const c = new DwarfCursor(this.line, at);
    const { length, offsetSize } = c.initialLength();
    const end = c.pos + length;
    if (end > this.line.length) throw new RangeError(`.debug_line unit at ${at} runs past the section`);
    const version = c.u16();
    if (version < 2 || version > 5) throw new RangeError(`.debug_line version ${version} is not known`);
    if (version >= 5) c.pos += 2; // address_size, segment_selector_size
    const headerLength = offsetSize === 8 ? Number(c.u64()) : c.u32();
    const programAt = c.pos + headerLength;
    const minInst = c.u8();
    if (version >= 4) c.u8(); // maximum_operations_per_instruction: 1 outside VLIW machines
    c.u8(); // default_is_stmt
    const lineBase = c.i8();
    const lineRange = c.u8();
    const opcodeBase = c.u8();
    const stdLengths: number[] = [0];
    for (let i = 1; i < opcodeBase; i++) stdLengths.push(c.u8());
    if (lineRange === 0) throw new RangeError(`.debug_line unit at ${at}: line_range is 0`);
    return { version, offsetSize, tablesAt: c.pos, programAt, end, minInst, lineBase, lineRange, opcodeBase, stdLengths };
  }

  /**
   * Runs a unit's line program, calling visit for every row it emits. Written as one flat
   * loop over the bytes (LEB128 decoded in place): the first lookup runs every unit of a
   * 3 MB libpython table through it.
   */
  private run(h: UnitHeader, visit: RowVisitor): void {
    const buf = this.line;
    const { minInst, lineBase, lineRange, opcodeBase, end, stdLengths } = h;
    const constAddPc = Math.floor((255 - opcodeBase) / lineRange) * minInst;
    let pos = h.programAt;
    let addr = 0;
    let file = 1;
    let line = 1;
    // an unsigned LEB128 at pos (a Number: every operand here fits)
    const uleb = (): number => {
      let v = 0;
      let mul = 1;
      let b: number;
      do {
        b = buf[pos++];
        v += (b & 0x7f) * mul;
        mul *= 128;
      } while (b & 0x80 && pos < end);
      return v;
    };
    while (pos < end) {
      const op = buf[pos++];
      if (op >= opcodeBase) {
        const adj = op - opcodeBase;
        addr += ((adj / lineRange) | 0) * minInst;
        line += lineBase + (adj % lineRange);
        if (visit(addr, file, line, false)) return;
      } else if (op === 0) {
        const len = uleb();
        const next = pos + len;
        const sub = len > 0 ? buf[pos] : -1;
        if (sub === DW_LNE_end_sequence) {
          if (visit(addr, file, line, true)) return;
          addr = 0;
          file = 1;
          line = 1;
        } else if (sub === DW_LNE_set_address) {
          addr = len === 9 ? buf.readUInt32LE(pos + 1) + buf.readUInt32LE(pos + 5) * 2 ** 32 : buf.readUInt32LE(pos + 1);
        }
        // the rest (set_discriminator; define_file, which current compilers never emit) is skipped by its length
        pos = next;
      } else if (op === DW_LNS_copy) {
        if (visit(addr, file, line, false)) return;
      } else if (op === DW_LNS_advance_pc) addr += uleb() * minInst;
      else if (op === DW_LNS_advance_line) {
        // a signed LEB128
        let v = 0;
        let mul = 1;
        let b: number;
        do {
          b = buf[pos++];
          v += (b & 0x7f) * mul;
          mul *= 128;
        } while (b & 0x80 && pos < end);
        line += b & 0x40 ? v - mul : v;
      } else if (op === DW_LNS_set_file) file = uleb();
      else if (op === DW_LNS_const_add_pc) addr += constAddPc;
      else if (op === DW_LNS_fixed_advance_pc) {
        addr += buf.readUInt16LE(pos);
        pos += 2;
      } else {
        // set_column, negate_stmt, basic_block, prologue/epilogue marks, set_isa and any
        // unknown standard opcode: skipped by their operand count
        for (let i = stdLengths[op]; i > 0; i--) uleb();
      }
    }
  }

  /** The unit's directory and file tables as full paths, read on first use. */
  private files(unit: number, h: UnitHeader, compDir: string | undefined): FileTable {
    let t = this.fileTables.get(unit);
    if (t) return t;
    t = h.version >= 5 ? this.filesV5(h) : this.filesV2(h, compDir ?? '');
    this.fileTables.set(unit, t);
    return t;
  }

  /** Versions 2-4: include_directories (index 0 is the compilation directory, not listed), then file entries. */
  private filesV2(h: UnitHeader, compDir: string): FileTable {
    const c = new DwarfCursor(this.line.subarray(0, h.programAt), h.tablesAt);
    const dirs = [compDir];
    for (let d = c.cstr(); d; d = c.cstr()) dirs.push(d);
    const files = [''];
    for (let name = c.cstr(); name; name = c.cstr()) {
      const dir = c.uleb();
      c.uleb(); // modification time
      c.uleb(); // length
      files.push(joinPath(dir === 0 ? compDir : joinPath(compDir, dirs[dir] ?? ''), name));
    }
    return { files };
  }

  /** Version 5: self-describing entry formats (DW_LNCT_*) for directories, then files; both indexed from 0. */
  private filesV5(h: UnitHeader): FileTable {
    const c = new DwarfCursor(this.line.subarray(0, h.programAt), h.tablesAt);
    const readEntries = (): Array<{ path: string; dir: number }> => {
      const formatCount = c.u8();
      const format: Array<[number, number]> = [];
      for (let i = 0; i < formatCount; i++) format.push([c.uleb(), c.uleb()]);
      const count = c.uleb();
      const out: Array<{ path: string; dir: number }> = [];
      for (let i = 0; i < count; i++) {
        const e = { path: '', dir: 0 };
        for (const [content, form] of format) {
          const v = this.formValue(c, form, h.offsetSize);
          if (content === DW_LNCT_path && typeof v === 'string') e.path = v;
          else if (content === DW_LNCT_directory_index && typeof v === 'number') e.dir = v;
        }
        out.push(e);
      }
      return out;
    };
    const dirs = readEntries().map((d) => d.path);
    // directory 0 is the compilation directory itself
    const files = readEntries().map((f) => joinPath(f.dir === 0 ? (dirs[0] ?? '') : joinPath(dirs[0] ?? '', dirs[f.dir] ?? ''), f.path));
    return { files };
  }

  /** One attribute value of a version 5 entry: a string, a number, or undefined for data kept as bytes (MD5). */
  private formValue(c: DwarfCursor, form: number, offsetSize: number): string | number | undefined {
    const offset = () => (offsetSize === 8 ? Number(c.u64()) : c.u32());
    switch (form) {
      case 0x08: // DW_FORM_string
        return c.cstr();
      case 0x1f: // DW_FORM_line_strp
        return strAt(this.lineStr, offset(), '.debug_line_str');
      case 0x0e: // DW_FORM_strp
        return strAt(this.str, offset(), '.debug_str');
      case 0x0f: // DW_FORM_udata
        return c.uleb();
      case 0x0b: // DW_FORM_data1
        return c.u8();
      case 0x05: // DW_FORM_data2
        return c.u16();
      case 0x06: // DW_FORM_data4
        return c.u32();
      case 0x07: // DW_FORM_data8
        return Number(c.u64());
      case 0x1e: // DW_FORM_data16
        c.pos += 16;
        return undefined;
      case 0x09: // DW_FORM_block
        c.pos += c.uleb();
        return undefined;
      default:
        throw new RangeError(`.debug_line: form 0x${form.toString(16)} is not supported in file tables`);
    }
  }
}

function strAt(buf: Buffer | undefined, at: number, name: string): string {
  if (!buf || at >= buf.length) throw new RangeError(`${name} is missing or too short`);
  const end = buf.indexOf(0, at);
  return buf.toString('utf8', at, end < 0 ? buf.length : end);
}

function joinPath(dir: string, name: string): string {
  if (!dir || name.startsWith('/')) return name;
  return posix.normalize(`${dir}/${name}`);
}

/**
 * The line table of elf (a module or its separate debug file), or undefined when it has no
 * .debug_line. file: elf's file in the pool of open files, which the table then reads
 * .debug_info through, so that elf can be closed (file-pool.ts). With the unit index a
 * previous run stored (stored), .debug_aranges, .debug_abbrev and .debug_info (libc's
 * debug file: 2.3 MB of compressed sections) are not read.
 */
export function openLineTable(elf: ElfFile, file?: PooledFile, stored?: UnitRanges): LineTable | undefined {
  const line = debugSection(elf, '.debug_line');
  if (!line) return undefined;
  const lineStr = debugSection(elf, '.debug_line_str');
  const str = debugSection(elf, '.debug_str');
  if (stored) return new LineTable(line, lineStr, str, new StoredUnits(stored));
  const aranges = debugSection(elf, '.debug_aranges');
  const abbrev = aranges && debugSection(elf, '.debug_abbrev');
  const info = aranges && abbrev ? debugSectionReader(elf, '.debug_info', file) : undefined;
  // .debug_info (tens of MB in a libpython) is read a unit header at a time
  const units = aranges && abbrev && info ? new CompileUnits({ aranges, abbrev, info, str, lineStr }) : undefined;
  return new LineTable(line, lineStr, str, units?.size ? units : undefined);
}
