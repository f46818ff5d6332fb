// Function symbols of one ELF image, for naming native frames: .symtab, then .dynsym
// (all a stripped library keeps), then the separate debug file's .symtab (libc6-dbg and
// friends, found by debug-file.ts) and the MiniDebugInfo image's .symtab (the static
// functions of a stripped Fedora binary, mini-debuginfo.ts). The table keeps the raw string tables and only
// numbers per symbol: a name is made into a string when a frame asks for it, so a
// library of tens of thousands of symbols loads in milliseconds. Kept per build-id, so a
// library met again (another process) costs nothing (docs/native-unwinding.md §3).
import type { ElfFile } from '../proc/elf.js';
import { demangle } from './demangle.js';
import { lastAtOrBelow } from '../sorted.js';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const SHT_NOBITS = 8;
const STT_NOTYPE = 0;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
/** how far past a symbol without a size an address is still taken to be in it */
const UNSIZED_REACH = 64;

export interface SymbolHit {
  name: string;
  /** pc minus the symbol's start */
  offset: number;
  /** link-time address one past the symbol's end */
  end: number;
}

/** Symbols as read, one number per field: the string table (strs[src]) and offset hold the name. */
class SymbolList {
  readonly start: number[] = [];
  readonly size: number[] = [];
  readonly src: number[] = [];
  readonly nameOff: number[] = [];
  readonly rank: number[] = [];
  readonly strs: Buffer[] = [];
}

/** A sorted table as plain arrays: what module-index.ts writes to disk and reads back. */
export interface SymbolParts {
  starts: Float64Array;
  ends: Float64Array;
  /** where each name starts in names */
  nameOffs: Uint32Array;
  /** the string tables the names are in, one after the other */
  names: Buffer;
  sources: string[];
}

export class SymbolTable {
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private readonly srcs: Uint8Array;
  private readonly nameOffs: Uint32Array;
  private readonly strs: Buffer[];
  /** where the symbols came from, for notes: "symtab", "dynsym", "debug file" */
  readonly sources: string[];

  private constructor(
    starts: Float64Array,
    ends: Float64Array,
    srcs: Uint8Array,
    nameOffs: Uint32Array,
    strs: Buffer[],
    sources: string[],
  ) {
    this.starts = starts;
    this.ends = ends;
    this.srcs = srcs;
    this.nameOffs = nameOffs;
    this.strs = strs;
    this.sources = sources;
  }

  /** Sorts the symbols read into a table. */
  static build(list: SymbolList, sources: string[]): SymbolTable {
    const { start, size, rank } = list;
    const order = Array.from(start.keys()).sort((a, b) => start[a] - start[b] || size[b] - size[a] || rank[a] - rank[b]);
    // aliases of one function (symtab and dynsym, libc's __GI_ internal names): the first is the best-named
    const kept = order.filter((e, i) => i === 0 || start[e] !== start[order[i - 1]] || size[e] !== size[order[i - 1]]);
    const starts = Float64Array.from(kept, (e) => start[e]);
    // an assembly label without a size (glibc's __restore_rt) reaches to the next symbol, within reason
    const ends = Float64Array.from(kept, (e, i) =>
      size[e] > 0
        ? start[e] + size[e]
        : start[e] + Math.min(UNSIZED_REACH, (i + 1 < kept.length ? start[kept[i + 1]] : Infinity) - start[e]),
    );
    const srcs = Uint8Array.from(kept, (e) => list.src[e]);
    const nameOffs = Uint32Array.from(kept, (e) => list.nameOff[e]);
    return new SymbolTable(starts, ends, srcs, nameOffs, list.strs, sources);
  }

  /** A table from the parts another run wrote (module-index.ts checks them first). */
  static fromParts(p: SymbolParts): SymbolTable {
    return new SymbolTable(p.starts, p.ends, new Uint8Array(p.starts.length), p.nameOffs, [p.names], p.sources);
  }

  parts(): SymbolParts {
    const bases: number[] = [];
    let at = 0;
    for (const s of this.strs) {
      bases.push(at);
      at += s.length;
    }
    const nameOffs = Uint32Array.from(this.nameOffs, (off, i) => bases[this.srcs[i]] + off);
    return { starts: this.starts, ends: this.ends, nameOffs, names: Buffer.concat(this.strs), sources: this.sources };
  }

  get size(): number {
    return this.starts.length;
  }

  /** The function holding link-time address pc; undefined when no symbol covers it (a static function of a stripped file). */
  lookup(pc: number): SymbolHit | undefined {
    const hi = lastAtOrBelow(this.starts, pc);
    // a few symbols back: a large symbol may enclose pc past smaller ones that end before it
    for (let i = hi, tries = 0; i >= 0 && tries < 8; i--, tries++) {
      if (pc < this.ends[i]) return { name: demangle(this.name(i)), offset: pc - this.starts[i], end: this.ends[i] };
    }
    return undefined;
  }

  /** Symbol i's name; versioned names (clock_nanosleep@@GLIBC_2.17) without their version. */
  private name(i: number): string {
    return nameAt(this.strs[this.srcs[i]], this.nameOffs[i]);
  }
}

const GI = Buffer.from('__GI_');
const LIBC = Buffer.from('__libc_');

/** Does the name at strs[at] start with prefix? (compared byte by byte: this runs once per symbol) */
function startsWith(strs: Buffer, at: number, prefix: Buffer): boolean {
  for (let i = 0; i < prefix.length; i++) if (strs[at + i] !== prefix[i]) return false;
  return true;
}

/** Lower is a better name to show: public names before glibc's internal aliases. */
function nameRank(strs: Buffer, at: number): number {
  if (strs[at] !== 0x5f) return 0; // '_'
  return 1 + (startsWith(strs, at, GI) || startsWith(strs, at, LIBC) ? 2 : 0);
}

/** Calls visit(start, size, strs, nameOff) for each function symbol of elf's tables of `type`; returns how many. */
function eachSymbol(elf: ElfFile, type: number, visit: (start: number, size: number, strs: Buffer, nameOff: number) => void): number {
  let n = 0;
  for (const sec of elf.sections) {
    if (sec.type !== type || sec.link >= elf.sections.length) continue;
    const strSec = elf.sections[sec.link];
    if (strSec.type === SHT_NOBITS || sec.type === SHT_NOBITS) continue;
    const syms = elf.read(sec.offset, Number(sec.size));
    const strs = elf.read(strSec.offset, Number(strSec.size));
    for (let o = 0; o + 24 <= syms.length; o += 24) {
      const kind = syms[o + 4] & 0xf;
      if (syms.readUInt16LE(o + 6) === 0) continue; // undefined (imported)
      // sizes and addresses fit a Number: read as two 32-bit halves, no BigInt per symbol
      const size = syms.readUInt32LE(o + 16) + syms.readUInt32LE(o + 20) * 2 ** 32;
      // sizeless NOTYPE symbols are mostly section and file markers; sizeless functions are assembly labels
      if (kind !== STT_FUNC && kind !== STT_GNU_IFUNC && !(kind === STT_NOTYPE && size > 0)) continue;
      const nameOff = syms.readUInt32LE(o);
      if (nameOff === 0 || nameOff >= strs.length || strs[nameOff] === 0) continue;
      visit(syms.readUInt32LE(o + 8) + syms.readUInt32LE(o + 12) * 2 ** 32, size, strs, nameOff);
      n++;
    }
  }
  return n;
}

function addSymbols(elf: ElfFile, type: number, out: SymbolList): number {
  let src = -1;
  let lastStrs: Buffer | undefined;
  return eachSymbol(elf, type, (start, size, strs, nameOff) => {
    if (strs !== lastStrs) {
      src = out.strs.push(strs) - 1;
      lastStrs = strs;
    }
    out.start.push(start);
    out.size.push(size);
    out.src.push(src);
    out.nameOff.push(nameOff);
    out.rank.push(nameRank(strs, nameOff));
  });
}

/** The versionless name at strs[at]. */
function nameAt(strs: Buffer, at: number): string {
  let end = strs.indexOf(0, at);
  if (end < 0) end = strs.length;
  const version = strs.indexOf(0x40, at); // '@'
  return strs.toString('latin1', at, version > at && version < end ? version : end);
}

const byBuildId = new Map<string, SymbolTable>();

/**
 * Symbols of elf, of its separate debug file when one was found and of its MiniDebugInfo
 * image when it has one; cached by build-id (id), which the debug file shares.
 */
export function loadSymbols(elf: ElfFile, id: string | undefined, debug?: { elf: ElfFile; path: string }, mini?: ElfFile): SymbolTable {
  const cached = id && byBuildId.get(id);
  if (cached) return cached;
  const list = new SymbolList();
  const sources: string[] = [];
  if (addSymbols(elf, SHT_SYMTAB, list)) sources.push('symtab');
  if (addSymbols(elf, SHT_DYNSYM, list)) sources.push('dynsym');
  if (debug && addSymbols(debug.elf, SHT_SYMTAB, list)) sources.push(`debug file ${debug.path}`);
  if (mini && addSymbols(mini, SHT_SYMTAB, list)) sources.push('.gnu_debugdata');
  const table = SymbolTable.build(list, sources);
  if (id) byBuildId.set(id, table);
  return table;
}
