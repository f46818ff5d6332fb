// Finding a module's separate debug file (what `libc6-dbg` or `objcopy --only-keep-debug`
// produce), the way gdb does: by GNU build-id under /usr/lib/debug/.build-id/, then by the
// name in the module's `.gnu_debuglink` section, next to the module, in its `.debug/`
// folder and under /usr/lib/debug/<its folder>/, accepted only when the file's CRC-32
// matches the one the link records (docs/native-unwinding.md §3).
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import type { ElfFile } from '../proc/elf.js';

const SHT_NOBITS = 8;
const DEBUG_ROOT = '/usr/lib/debug';
const CRC_CHUNK = 1 << 20;

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

/** The file name and CRC-32 that .gnu_debuglink records, if elf has one. */
export function debugLink(elf: ElfFile): { name: string; crc: number } | undefined {
  const s = elf.section('.gnu_debuglink');
  if (!s || s.type === SHT_NOBITS || s.size < 8n) return undefined;
  const b = elf.read(s.offset, Number(s.size));
  const end = b.indexOf(0);
  if (end <= 0) return undefined;
  // the name, its NUL, padding to 4 bytes, then the CRC
  const crcAt = (end + 4) & ~3;
  if (crcAt + 4 > b.length) return undefined;
  return { name: b.toString('latin1', 0, end), crc: b.readUInt32LE(crcAt) };
}

/** The CRC-32 of a whole file, read in chunks. */
export function fileCrc32(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CRC_CHUNK);
    let crc = 0;
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, CRC_CHUNK, pos);
      if (n <= 0) return crc;
      crc = crc32(buf.subarray(0, n), crc);
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The separate debug file of a module, or undefined. modulePath: the module's path as the
 * target sees it; roots: where to look for files ("" for this machine, then the target's
 * /proc/PID/root when it runs in another mount namespace).
 */
export function findDebugFile(elf: ElfFile, modulePath: string, roots: string[]): string | undefined {
  const id = buildId(elf);
  if (id && id.length > 2) {
    const rel = `${DEBUG_ROOT}/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`;
    for (const root of roots) if (existsSync(root + rel)) return root + rel;
  }
  const link = debugLink(elf);
  if (!link) return undefined;
  const dir = dirname(modulePath);
  for (const root of roots) {
    for (const candidate of [`${dir}/${link.name}`, `${dir}/.debug/${link.name}`, `${DEBUG_ROOT}${dir}/${link.name}`]) {
      const path = root + candidate;
      // the module itself may carry its own name in the link: it is no debug file
      if (candidate === modulePath || !existsSync(path)) continue;
      try {
        if (fileCrc32(path) === link.crc) return path;
      } catch {
        /* unreadable: the next place */
      }
    }
  }
  return undefined;
}
