// The bytes of a DWARF section, decompressed when the linker or objcopy compressed it:
// SHF_COMPRESSED sections (an Elf64_Chdr, then a zlib stream; what Debian's -dbg
// packages ship) and the older GNU `.zdebug_*` form ("ZLIB", a big-endian size, then a
// zlib stream) (docs/native-unwinding.md §3). A large section that is read only here and
// there (.debug_info) can be read piecewise: from the file when it is not compressed.
import { inflateSync } from 'node:zlib';
import type { ElfFile } from '../proc/elf.js';

const SHT_NOBITS = 8;
const SHF_COMPRESSED = 0x800n;
const ELFCOMPRESS_ZLIB = 1;
const ELFCOMPRESS_ZSTD = 2;
/** Elf64_Chdr: ch_type, ch_reserved, ch_size, ch_addralign */
const CHDR_SIZE = 24;

/**
 * What was read of each file, by section name: the line table and the inlined-function
 * index read the same sections (.debug_info, .debug_str, .debug_abbrev...) of one file,
 * which are then read, and inflated, once.
 */
const readOf = new WeakMap<ElfFile, Map<string, Buffer | SectionReader | undefined>>();

function once<T extends Buffer | SectionReader>(elf: ElfFile, key: string, read: () => T | undefined): T | undefined {
  let m = readOf.get(elf);
  if (!m) readOf.set(elf, (m = new Map()));
  if (!m.has(key)) m.set(key, read());
  return m.get(key) as T | undefined;
}

/** The contents of section `name` (e.g. ".debug_line"), or undefined when elf has none. Throws on a compression it cannot read. */
export function debugSection(elf: ElfFile, name: string): Buffer | undefined {
  return once(elf, name, () => readSection(elf, name));
}

function readSection(elf: ElfFile, name: string): Buffer | undefined {
  const s = elf.section(name);
  if (s && s.type !== SHT_NOBITS && s.size > 0n) {
    const raw = elf.read(s.offset, Number(s.size));
    if (!(s.flags & SHF_COMPRESSED)) return raw;
    const type = raw.readUInt32LE(0);
    if (type === ELFCOMPRESS_ZSTD) throw new Error(`${name} is compressed with zstd, which this Node cannot decompress`);
    if (type !== ELFCOMPRESS_ZLIB) throw new Error(`${name} uses an unknown compression (${type})`);
    return inflateSync(raw.subarray(CHDR_SIZE), { maxOutputLength: Number(raw.readBigUInt64LE(8)) });
  }
  const z = elf.section(`.z${name.slice(1)}`);
  if (!z || z.type === SHT_NOBITS || z.size < 12n) return undefined;
  const raw = elf.read(z.offset, Number(z.size));
  if (raw.toString('latin1', 0, 4) !== 'ZLIB') return raw;
  return inflateSync(raw.subarray(12), { maxOutputLength: Number(raw.readBigUInt64BE(4)) });
}

/** Reads len bytes at offset of a section (fewer at its end). */
export type SectionReader = (offset: number, len: number) => Buffer;

/** A piecewise reader of section `name`, or undefined when elf has none. */
export function debugSectionReader(elf: ElfFile, name: string): SectionReader | undefined {
  return once(elf, `${name} reader`, () => sectionReader(elf, name));
}

function sectionReader(elf: ElfFile, name: string): SectionReader | undefined {
  const s = elf.section(name);
  if (!s || s.type === SHT_NOBITS || s.size === 0n) return undefined;
  if (!(s.flags & SHF_COMPRESSED)) {
    const size = Number(s.size);
    return (at, len) => elf.read(s.offset + BigInt(at), Math.max(0, Math.min(len, size - at)));
  }
  // compressed: inflated whole on the first read (inflating prefixes again for each
  // further piece cost more than the whole, measured on libc's debug file)
  let whole: Buffer | undefined;
  return (at, len) => {
    whole ??= debugSection(elf, name) ?? Buffer.alloc(0);
    return whole.subarray(at, Math.min(at + len, whole.length));
  };
}
