// A minimal ELF64 (little-endian, x86_64) reader: program headers, section headers and
// symbol tables, read with positioned reads so a 30 MB libpython is not loaded whole.
// An image already in memory (the vdso, copied out of the target) is read the same way.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface ElfSymbol {
  value: bigint; // st_value: link-time address
  size: bigint;
}

export interface ElfSection {
  name: string;
  type: number;
  /** sh_flags: SHF_COMPRESSED (0x800) marks a compressed debug section */
  flags: bigint;
  addr: bigint; // sh_addr
  offset: bigint; // sh_offset in the file
  size: bigint;
  /** sh_link: for a symbol table, the index of its string table */
  link: number;
}

export interface ElfSegment {
  type: number; // PT_LOAD = 1
  flags: number; // PF_X = 1, PF_W = 2, PF_R = 4
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const SHT_NOBITS = 8;
const SHT_GNU_HASH = 0x6ffffff6;

export class NotElfError extends Error {}

export class ElfFile {
  readonly path: string;
  readonly type: number;
  readonly entry: bigint;
  readonly segments: ElfSegment[];
  readonly sections: ElfSection[];
  private readonly fd: number;
  /** the whole image when it was given in memory (fd is then -1) */
  private readonly image?: Buffer;
  private readonly size: number;
  private dynsym?: SymbolTable | null;
  private symtab?: SymbolTable | null;
  /** each name looked up so far, found or not */
  private readonly found = new Map<string, ElfSymbol | undefined>();

  private constructor(path: string, fd: number, image?: Buffer) {
    this.path = path;
    this.fd = fd;
    this.image = image;
    this.size = image ? image.length : fstatSync(fd).size;
    const h = this.read(0n, 64);
    if (h.readUInt32BE(0) !== 0x7f454c46) throw new NotElfError(`${path} is not an ELF file`);
    if (h[4] !== 2 || h[5] !== 1) throw new NotElfError(`${path} is not a 64-bit little-endian ELF file`);
    this.type = h.readUInt16LE(16);
    this.entry = h.readBigUInt64LE(24);
    const phoff = h.readBigUInt64LE(32);
    const shoff = h.readBigUInt64LE(40);
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    const shentsize = h.readUInt16LE(58);
    const shnum = h.readUInt16LE(60);
    const shstrndx = h.readUInt16LE(62);

    this.segments = [];
    const ph = this.read(phoff, phentsize * phnum);
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      this.segments.push({
        type: ph.readUInt32LE(o),
        flags: ph.readUInt32LE(o + 4),
        offset: ph.readBigUInt64LE(o + 8),
        vaddr: ph.readBigUInt64LE(o + 16),
        filesz: ph.readBigUInt64LE(o + 32),
        memsz: ph.readBigUInt64LE(o + 40),
        align: ph.readBigUInt64LE(o + 48),
      });
    }

    this.sections = [];
    if (shoff > 0n && shnum > 0 && Number(shoff) + shentsize * shnum <= this.size) {
      const sh = this.read(shoff, shentsize * shnum);
      const raw = [];
      for (let i = 0; i < shnum; i++) {
        const o = i * shentsize;
        raw.push({
          nameOff: sh.readUInt32LE(o),
          type: sh.readUInt32LE(o + 4),
          flags: sh.readBigUInt64LE(o + 8),
          addr: sh.readBigUInt64LE(o + 16),
          offset: sh.readBigUInt64LE(o + 24),
          size: sh.readBigUInt64LE(o + 32),
          link: sh.readUInt32LE(o + 40),
        });
      }
      const strtab = shstrndx < raw.length ? this.read(raw[shstrndx].offset, Number(raw[shstrndx].size)) : Buffer.alloc(0);
      for (const s of raw) {
        this.sections.push({
          name: cstr(strtab, s.nameOff),
          type: s.type,
          flags: s.flags,
          addr: s.addr,
          offset: s.offset,
          size: s.size,
          link: s.link,
        });
      }
      this.rawSections = raw;
    } else {
      this.rawSections = [];
    }
  }

  private readonly rawSections: Array<{ type: number; offset: bigint; size: bigint; link: number }>;

  static open(path: string): ElfFile {
    const fd = openSync(path, 'r');
    try {
      return new ElfFile(path, fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** An ELF image held in memory; name is what errors call it. */
  static fromImage(name: string, image: Buffer): ElfFile {
    return new ElfFile(name, -1, image);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
  }

  /** Reads len bytes at a file offset. */
  read(offset: bigint, len: number): Buffer {
    if (this.image) {
      const at = Number(offset);
      if (at < 0 || at + len > this.image.length) throw new NotElfError(`${this.path}: truncated ELF image`);
      return Buffer.from(this.image.subarray(at, at + len));
    }
    const buf = Buffer.allocUnsafe(len); // filled below, or thrown away
    let done = 0;
    while (done < len) {
      const n = readSync(this.fd, buf, done, len - done, Number(offset) + done);
      if (n <= 0) throw new NotElfError(`${this.path}: truncated ELF file`);
      done += n;
    }
    return buf;
  }

  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** The first PT_LOAD's vaddr rounded down to its alignment: what the load base is relative to. */
  get firstLoadVaddr(): bigint {
    const load = this.segments.find((s) => s.type === PT_LOAD);
    if (!load) return 0n;
    const align = load.align > 0n ? load.align : 0x1000n;
    return load.vaddr - (load.vaddr % align);
  }

  /**
   * Looks a symbol up in .dynsym (exported, survives strip), then in .symtab. Only the
   * names asked for are looked at: .dynsym through its GNU hash table, .symtab by finding
   * the name in its string table (a libpython has tens of thousands of symbols, and making
   * a string of each cost `dump` most of its start-up, BENCHMARKS.md#dump-start-up).
   */
  symbol(name: string): ElfSymbol | undefined {
    if (this.found.has(name)) return this.found.get(name);
    const key = Buffer.from(name, 'latin1');
    let sym = this.dynamicSymbol(key);
    if (!sym) {
      this.symtab ??= this.symbolTable(SHT_SYMTAB);
      sym = this.symtab ? scan(this.symtab, key) : undefined;
    }
    this.found.set(name, sym);
    return sym;
  }

  /**
   * Looks a symbol up in .dynsym only: for a name that, when defined, is exported, a
   * miss then costs no read of .symtab.
   */
  exported(name: string): ElfSymbol | undefined {
    return this.found.has(name) ? this.found.get(name) : this.dynamicSymbol(Buffer.from(name, 'latin1'));
  }

  private dynamicSymbol(key: Buffer): ElfSymbol | undefined {
    this.dynsym ??= this.symbolTable(SHT_DYNSYM);
    return this.dynsym ? (this.dynsym.hash ? this.hashLookup(this.dynsym, key) : scan(this.dynsym, key)) : undefined;
  }

  /** The symbols and names of the first section of `type`, and its GNU hash table if it has one; null when absent. */
  private symbolTable(type: number): SymbolTable | null {
    const i = this.rawSections.findIndex((sec) => sec.type === type && sec.link < this.rawSections.length);
    if (i < 0) return null;
    const sec = this.rawSections[i];
    const strSec = this.rawSections[sec.link];
    if (strSec.type === SHT_NOBITS || sec.type === SHT_NOBITS) return null;
    const hashSec = this.rawSections.find((h) => h.type === SHT_GNU_HASH && h.link === i);
    return {
      syms: this.read(sec.offset, Number(sec.size)),
      strs: this.read(strSec.offset, Number(strSec.size)),
      hash: hashSec && hashSec.type !== SHT_NOBITS ? this.read(hashSec.offset, Number(hashSec.size)) : undefined,
    };
  }

  /**
   * A .dynsym lookup through .gnu.hash: a header (nbuckets, symoffset, bloom size, bloom
   * shift), the bloom words, the buckets (first symbol of each hash bucket), then one
   * word per symbol from symoffset on: its hash with the low bit marking a chain's end.
   * The hash is djb2 (h * 33 + c, from 5381) in 32 bits.
   */
  private hashLookup(t: SymbolTable, key: Buffer): ElfSymbol | undefined {
    const h = t.hash!;
    const nbuckets = h.readUInt32LE(0);
    const symoffset = h.readUInt32LE(4);
    const bloomSize = h.readUInt32LE(8);
    if (nbuckets === 0) return undefined;
    let hv = 5381;
    for (const c of key) hv = (hv * 33 + c) >>> 0;
    const buckets = 16 + 8 * bloomSize;
    const chains = buckets + 4 * nbuckets;
    let idx = h.readUInt32LE(buckets + 4 * (hv % nbuckets));
    if (idx < symoffset) return undefined;
    for (; chains + 4 * (idx - symoffset) + 4 <= h.length; idx++) {
      const ch = h.readUInt32LE(chains + 4 * (idx - symoffset));
      if ((ch | 1) === (hv | 1)) {
        const sym = entry(t, idx, key);
        if (sym) return sym;
      }
      if (ch & 1) break;
    }
    return undefined;
  }
}

interface SymbolTable {
  syms: Buffer;
  strs: Buffer;
  hash?: Buffer;
}

/** Symbol number idx of the table when it is named `key` and defined here. */
function entry(t: SymbolTable, idx: number, key: Buffer): ElfSymbol | undefined {
  const o = 24 * idx;
  if (o + 24 > t.syms.length) return undefined;
  const nameOff = t.syms.readUInt32LE(o);
  const shndx = t.syms.readUInt16LE(o + 6);
  if (nameOff === 0 || shndx === 0) return undefined; // unnamed or undefined (imported)
  const end = nameOff + key.length;
  if (end >= t.strs.length || t.strs[end] !== 0 || t.strs.compare(key, 0, key.length, nameOff, end) !== 0) return undefined;
  return { value: t.syms.readBigUInt64LE(o + 8), size: t.syms.readBigUInt64LE(o + 16) };
}

function scan(t: SymbolTable, key: Buffer): ElfSymbol | undefined {
  // where the name is in the string table first (a native search), so that a name that is
  // not there costs no walk of the symbols; every place counts (linkers share string tails)
  const needle = Buffer.concat([key, Buffer.of(0)]);
  const offsets = new Set<number>();
  for (let at = t.strs.indexOf(needle); at >= 0; at = t.strs.indexOf(needle, at + 1)) offsets.add(at);
  if (!offsets.size) return undefined;
  const n = Math.floor(t.syms.length / 24);
  for (let i = 1; i < n; i++) {
    if (!offsets.has(t.syms.readUInt32LE(24 * i))) continue;
    const sym = entry(t, i, key);
    if (sym) return sym;
  }
  return undefined;
}

function cstr(buf: Buffer, off: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('latin1', off, end < 0 ? buf.length : end);
}
