// Where the native layer keeps what it learnt about a library (its sorted symbols and the
// source lines of the functions met so far) between runs: one file per library in
// $XDG_CACHE_HOME/spyglass/native/ (else ~/.cache/spyglass/native/). Building a
// library's symbol table and running its line programs cost a `dump --native` most of
// its time; reading the file back costs a millisecond (docs/native-index.md).
//
// The files are data, not code, but a forged one could make spyglass show wrong names, so
// they get the code cache's rules (docs/bundle.md): read only from directories and files
// that belong to this user and nobody else can write, opened without following a link;
// written whole (a file of its own, then renamed); checked (magic, version, length,
// CRC-32) and ignored when anything is off; bounded in size, one file and all together.
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { cacheRoot, isPrivate, privateDir } from '../cache-dir.js';

const MAGIC = Buffer.from('SPYGLASS-NATIVE-IDX\n', 'latin1');
/** bumped whenever what module-index.ts writes changes meaning: files of another version are ignored */
export const INDEX_FORMAT = 2;
/** magic, format version (u32), body length (u32), CRC-32 of the body (u32): 32 bytes, so that the body's arrays lie 8-byte aligned in the file read */
const HEADER = MAGIC.length + 12;
export interface StoreLimits {
  /** no one library's file is written (or read) larger than this */
  fileBytes: number;
  /** all files together: the least recently written are removed past this */
  dirBytes: number;
}

export const STORE_LIMITS: StoreLimits = { fileBytes: 16 << 20, dirBytes: 64 << 20 };
/** what a file's name may be made of (a build-id in hex, or a hash of a path) */
const NAME = /^[0-9a-z-]{1,128}$/;

/**
 * A stored index's file name: the format version is part of it, so that two versions of
 * spyglass sharing a cache directory (an upgrade, two checkouts) each keep their own files
 * instead of rebuilding each other's on every run; the other version's files go with the
 * least recently written.
 */
export function indexFileName(name: string): string {
  return `${name}.v${INDEX_FORMAT}.idx`;
}

/** The cache's two levels (spyglass/ and spyglass/native/), or undefined without a usable home. */
function dirs(): { parent: string; dir: string } | undefined {
  const parent = cacheRoot();
  return parent === undefined ? undefined : { parent, dir: join(parent, 'native') };
}

/** The stored body named `name`, or undefined when there is none to trust. */
export function loadIndexFile(name: string, limits = STORE_LIMITS): Buffer | undefined {
  const d = dirs();
  if (!d || !NAME.test(name)) return undefined;
  try {
    if (!privateDir(d.parent) || !privateDir(d.dir)) return undefined;
    const fd = openSync(join(d.dir, indexFileName(name)), constants.O_RDONLY | constants.O_NOFOLLOW);
    let data: Buffer;
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || !isPrivate(st, false) || st.size > limits.fileBytes || st.size < HEADER) return undefined;
      data = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
    if (!data.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    if (data.readUInt32LE(MAGIC.length) !== INDEX_FORMAT) return undefined;
    const len = data.readUInt32LE(MAGIC.length + 4);
    if (HEADER + len !== data.length) return undefined;
    const body = data.subarray(HEADER);
    return crc32(body) === data.readUInt32LE(MAGIC.length + 8) ? body : undefined;
  } catch {
    return undefined; // none yet, or none to be had: built from the library again
  }
}

/** Stores body under `name`, whole or not at all; any failure (read-only home, full disk) only costs the next run the work. */
export function saveIndexFile(name: string, body: Buffer, limits = STORE_LIMITS): void {
  const d = dirs();
  if (!d || !NAME.test(name) || HEADER + body.length > limits.fileBytes) return;
  try {
    mkdirSync(d.dir, { recursive: true, mode: 0o700 });
    if (!privateDir(d.parent) || !privateDir(d.dir)) return;
    const header = Buffer.alloc(HEADER);
    MAGIC.copy(header);
    header.writeUInt32LE(INDEX_FORMAT, MAGIC.length);
    header.writeUInt32LE(body.length, MAGIC.length + 4);
    header.writeUInt32LE(crc32(body), MAGIC.length + 8);
    const file = join(d.dir, indexFileName(name));
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.concat([header, body]), { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
    trim(d.dir, file, limits.dirBytes);
  } catch {
    /* the next run builds it again */
  }
}

/** Removes the least recently written files until the rest fit in max bytes (never `keep`, just written). */
function trim(dir: string, keep: string, max: number): void {
  const files: Array<{ path: string; size: number; mtime: number }> = [];
  let total = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    try {
      const st = statSync(path);
      if (!st.isFile()) continue;
      total += st.size;
      if (path !== keep) files.push({ path, size: st.size, mtime: st.mtimeMs });
    } catch {
      /* removed meanwhile by another run */
    }
  }
  files.sort((a, b) => a.mtime - b.mtime);
  for (const f of files) {
    if (total <= max) break;
    try {
      unlinkSync(f.path);
    } catch {
      /* removed meanwhile */
    }
    total -= f.size;
  }
}
