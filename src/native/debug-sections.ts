// The bytes of a DWARF section, decompressed when the linker or objcopy compressed it:
// SHF_COMPRESSED sections (an Elf64_Chdr, then a zlib stream, what Debian's -dbg
// packages ship, or a zstd frame, decoded by fzstd: Node 20 has no zstd of its own) and
// the older GNU `.zdebug_*` form ("ZLIB", a big-endian size, then a
// zlib stream) (docs/native-unwinding.md §3). A large section that is read only here and
// there (.debug_info) can be read piecewise: from the file when it is not compressed.
import { inflateSync } from 'node:zlib';
import { decompress as unzstd } from 'fzstd';
import type { ElfFile } from '../proc/elf.js';
import type { PooledFile } from './file-pool.js';

const SHT_NOBITS = 8;
const SHF_COMPRESSED = 0x800n;
const ELFCOMPRESS_ZLIB = 1;
const ELFCOMPRESS_ZSTD = 2;
/** Elf64_Chdr: ch_type, ch_reserved, ch_size, ch_addralign */
const CHDR_SIZE = 24;
/** a zstd section is decoded into a buffer of the size its header claims: a corrupt header must not claim more */
const MAX_ZSTD_SECTION_BYTES = 1 << 30;

/** The contents of section `name` (e.g. ".debug_line"), or undefined when elf has none. Throws on a compression it cannot read. */
export function debugSection(elf: ElfFile, name: string): Buffer | undefined {
  const s = elf.section(name);
  if (s && s.type !== SHT_NOBITS && s.size > 0n) {
    const raw = elf.read(s.offset, Number(s.size));
    return s.flags & SHF_COMPRESSED ? decompress(raw, name) : raw;
  }
  const z = elf.section(`.z${name.slice(1)}`);
  if (!z || z.type === SHT_NOBITS || z.size < 12n) return undefined;
  const raw = elf.read(z.offset, Number(z.size));
  if (raw.toString('latin1', 0, 4) !== 'ZLIB') return raw;
  return inflateSync(raw.subarray(12), { maxOutputLength: Number(raw.readBigUInt64BE(4)) });
}

/** The contents of an SHF_COMPRESSED section: its Elf64_Chdr, then a zlib stream or a zstd frame. */
function decompress(raw: Buffer, name: string): Buffer {
  const type = raw.readUInt32LE(0);
  const size = Number(raw.readBigUInt64LE(8));
  if (type === ELFCOMPRESS_ZSTD) {
    if (size > MAX_ZSTD_SECTION_BYTES) throw new Error(`${name} claims ${size} bytes once decompressed`);
    // into a buffer of the size the header gives: a frame that would outgrow it is refused
    const out = Buffer.alloc(size);
    const got = unzstd(raw.subarray(CHDR_SIZE), out);
    if (got.length !== size) throw new Error(`${name}: zstd data of ${got.length} bytes where the header says ${size}`);
    return out;
  }
  if (type !== ELFCOMPRESS_ZLIB) throw new Error(`${name} uses an unknown compression (${type})`);
  return inflateSync(raw.subarray(CHDR_SIZE), { maxOutputLength: size });
}

/** Reads len bytes at offset of a section (fewer at its end). */
export type SectionReader = (offset: number, len: number) => Buffer;

/**
 * A piecewise reader of section `name`, or undefined when elf has none. file: elf's file
 * in the pool of open files (file-pool.ts), to read through instead of elf, which the
 * caller may then close.
 */
export function debugSectionReader(elf: ElfFile, name: string, file?: PooledFile): SectionReader | undefined {
  const s = elf.section(name);
  if (!s || s.type === SHT_NOBITS || s.size === 0n) return undefined;
  const size = Number(s.size);
  const start = Number(s.offset);
  const read = (at: number, len: number) => (file ? file.read(start + at, len) : elf.read(s.offset + BigInt(at), len));
  if (!(s.flags & SHF_COMPRESSED)) return (at, len) => read(at, Math.max(0, Math.min(len, size - at)));
  // compressed: decompressed whole on the first read (inflating prefixes again for each
  // further piece cost more than the whole, measured on libc's debug file)
  let whole: Buffer | undefined;
  return (at, len) => {
    whole ??= decompress(read(0, size), name);
    return whole.subarray(at, Math.min(at + len, whole.length));
  };
}
