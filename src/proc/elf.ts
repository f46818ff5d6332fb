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
  private dynsym?: Map<string, ElfSymbol>;
  private symtab?: Map<string, ElfSymbol>;

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
          addr: sh.readBigUInt64LE(o + 16),
          offset: sh.readBigUInt64LE(o + 24),
          size: sh.readBigUInt64LE(o + 32),
          link: sh.readUInt32LE(o + 40),
        });
      }
      const strtab = shstrndx < raw.length ? this.read(raw[shstrndx].offset, Number(raw[shstrndx].size)) : Buffer.alloc(0);
      for (const s of raw) {
        this.sections.push({ name: cstr(strtab, s.nameOff), type: s.type, addr: s.addr, offset: s.offset, size: s.size, link: s.link });
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
    const buf = Buffer.alloc(len);
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

  /** Looks a symbol up in .dynsym (exported, survives strip), then in .symtab. */
  symbol(name: string): ElfSymbol | undefined {
    if (!this.dynsym) this.dynsym = this.loadSymbols(SHT_DYNSYM);
    const s = this.dynsym.get(name);
    if (s) return s;
    if (!this.symtab) this.symtab = this.loadSymbols(SHT_SYMTAB);
    return this.symtab.get(name);
  }

  private loadSymbols(type: number): Map<string, ElfSymbol> {
    const out = new Map<string, ElfSymbol>();
    for (const sec of this.rawSections) {
      if (sec.type !== type || sec.link >= this.rawSections.length) continue;
      const strSec = this.rawSections[sec.link];
      if (strSec.type === SHT_NOBITS) continue;
      const syms = this.read(sec.offset, Number(sec.size));
      const strs = this.read(strSec.offset, Number(strSec.size));
      for (let o = 0; o + 24 <= syms.length; o += 24) {
        const nameOff = syms.readUInt32LE(o);
        const shndx = syms.readUInt16LE(o + 6);
        if (nameOff === 0 || shndx === 0) continue; // unnamed or undefined (imported)
        const name = cstr(strs, nameOff);
        if (!out.has(name)) out.set(name, { value: syms.readBigUInt64LE(o + 8), size: syms.readBigUInt64LE(o + 16) });
      }
    }
    return out;
  }
}

function cstr(buf: Buffer, off: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('latin1', off, end < 0 ? buf.length : end);
}
