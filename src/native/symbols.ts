// Function symbols of one ELF image, for naming native frames: .symtab, then .dynsym
// (all a stripped library keeps), then the separate debug file that shares its build-id
// under /usr/lib/debug/.build-id/ (libc6-dbg and friends). Loaded on first use and kept
// per build-id, so a library met again (another process, the next sample) costs nothing
// (docs/native-unwinding.md §3).
import { existsSync } from 'node:fs';
import { ElfFile } from '../proc/elf.js';
import { demangle } from './demangle.js';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const SHT_NOBITS = 8;
const STT_NOTYPE = 0;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const DEBUG_ROOT = '/usr/lib/debug/.build-id';
/** how far past a symbol without a size an address is still taken to be in it */
const UNSIZED_REACH = 64;

export interface SymbolHit {
  name: string;
  /** pc minus the symbol's start */
  offset: number;
}

export class SymbolTable {
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private readonly names: string[];
  /** where the symbols came from, for notes: "symtab", "dynsym", "debug file" */
  readonly sources: string[];

  constructor(all: Array<{ start: number; size: number; name: string }>, sources: string[]) {
    all.sort((a, b) => a.start - b.start || b.size - a.size || nameRank(a.name) - nameRank(b.name));
    // aliases of one function (symtab and dynsym, libc's __GI_ internal names): keep the best-named
    const entries = all.filter((e, i) => i === 0 || e.start !== all[i - 1].start || e.size !== all[i - 1].size);
    this.starts = Float64Array.from(entries, (e) => e.start);
    // an assembly label without a size (glibc's __restore_rt) reaches to the next symbol, within reason
    this.ends = Float64Array.from(entries, (e, i) =>
      e.size > 0 ? e.start + e.size : e.start + Math.min(UNSIZED_REACH, (entries[i + 1]?.start ?? Infinity) - e.start),
    );
    this.names = entries.map((e) => e.name);
    this.sources = sources;
  }

  get size(): number {
    return this.names.length;
  }

  /** The function holding link-time address pc; undefined when no symbol covers it (a static function of a stripped file). */
  lookup(pc: number): SymbolHit | undefined {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] <= pc) lo = mid + 1;
      else hi = mid - 1;
    }
    // a few symbols back: a large symbol may enclose pc past smaller ones that end before it
    for (let i = hi, tries = 0; i >= 0 && tries < 8; i--, tries++) {
      if (pc < this.ends[i]) return { name: demangle(this.names[i]), offset: pc - this.starts[i] };
    }
    return undefined;
  }
}

/** Lower is a better name to show: public names before glibc's internal aliases. */
function nameRank(name: string): number {
  return (name.startsWith('__GI_') || name.startsWith('__libc_') ? 2 : 0) + (name.startsWith('_') ? 1 : 0);
}

/** The GNU build-id of an ELF image as hex, from its .note.gnu.build-id section. */
export function buildId(elf: ElfFile): string | undefined {
  const s = elf.section('.note.gnu.build-id');
  if (!s || s.size < 16n || s.type === SHT_NOBITS) return undefined;
  const note = elf.read(s.offset, Number(s.size));
  const namesz = note.readUInt32LE(0);
  const descsz = note.readUInt32LE(4);
  const descAt = 12 + ((namesz + 3) & ~3);
  if (descAt + descsz > note.length) return undefined;
  return note.toString('hex', descAt, descAt + descsz);
}

/** The separate debug file of a build-id, looked for on this machine and then inside the target's root. */
export function debugFilePath(id: string, targetRoot?: string): string | undefined {
  if (id.length < 4) return undefined;
  const rel = `${DEBUG_ROOT}/${id.slice(0, 2)}/${id.slice(2)}.debug`;
  if (existsSync(rel)) return rel;
  if (targetRoot && existsSync(targetRoot + rel)) return targetRoot + rel;
  return undefined;
}

function addSymbols(elf: ElfFile, type: number, out: Array<{ start: number; size: number; name: string }>): number {
  let n = 0;
  for (const sec of elf.sections) {
    if (sec.type !== type || sec.link >= elf.sections.length) continue;
    const strSec = elf.sections[sec.link];
    if (strSec.type === SHT_NOBITS || sec.type === SHT_NOBITS) continue;
    const syms = elf.read(sec.offset, Number(sec.size));
    const strs = elf.read(strSec.offset, Number(strSec.size));
    for (let o = 0; o + 24 <= syms.length; o += 24) {
      const info = syms[o + 4];
      const kind = info & 0xf;
      const shndx = syms.readUInt16LE(o + 6);
      const size = Number(syms.readBigUInt64LE(o + 16));
      if (shndx === 0) continue; // undefined (imported)
      // sizeless NOTYPE symbols are mostly section and file markers; sizeless functions are assembly labels
      if (kind !== STT_FUNC && kind !== STT_GNU_IFUNC && !(kind === STT_NOTYPE && size > 0)) continue;
      const nameOff = syms.readUInt32LE(o);
      const end = strs.indexOf(0, nameOff);
      const name = strs.toString('latin1', nameOff, end < 0 ? strs.length : end);
      if (!name) continue;
      // versioned names (clock_nanosleep@@GLIBC_2.17) show without their version
      const at = name.indexOf('@');
      out.push({ start: Number(syms.readBigUInt64LE(o + 8)), size, name: at > 0 ? name.slice(0, at) : name });
      n++;
    }
  }
  return n;
}

const byBuildId = new Map<string, SymbolTable>();

/** Symbols of elf (and of its separate debug file when one is installed); cached by build-id. */
export function loadSymbols(elf: ElfFile, targetRoot?: string): SymbolTable {
  const id = buildId(elf);
  const cached = id && byBuildId.get(id);
  if (cached) return cached;
  const entries: Array<{ start: number; size: number; name: string }> = [];
  const sources: string[] = [];
  if (addSymbols(elf, SHT_SYMTAB, entries)) sources.push('symtab');
  if (addSymbols(elf, SHT_DYNSYM, entries)) sources.push('dynsym');
  const debugPath = id && debugFilePath(id, targetRoot);
  if (debugPath) {
    try {
      const dbg = ElfFile.open(debugPath);
      try {
        if (addSymbols(dbg, SHT_SYMTAB, entries)) sources.push(`debug file ${debugPath}`);
      } finally {
        dbg.close();
      }
    } catch {
      /* an unreadable debug file only costs names */
    }
  }
  const table = new SymbolTable(entries, sources);
  if (id) byBuildId.set(id, table);
  return table;
}
