// Finds the CPython interpreter inside a process: which file holds its symbols (libpython
// for shared builds, the executable for static ones), where that file is loaded, the
// address of _PyRuntime, and the exact version. Decided from /proc/PID/maps, never from
// the distribution (docs/cpython-layouts.md §1–2).
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { NotPythonError, ProcessGoneError, UserError } from '../errors.js';
import { ElfFile, NotElfError } from '../proc/elf.js';
import { BinaryFacts, type ElfFacts } from './binary-facts.js';
import { readMaps, type MapEntry } from '../proc/maps.js';
import { MemoryReadError, ProcessMemory } from '../proc/memory.js';
import { isExiting, processExists, processInfo } from '../proc/process.js';

export interface PythonVersion {
  major: number;
  minor: number;
  micro: number;
  /** 'alpha' | 'beta' | 'candidate' | 'final' | 'unknown' */
  releaselevel: string;
  serial: number;
  /** "3.11.7", "3.13.0rc2", or "3.9" when the patch level could not be found */
  text: string;
}

/** A file mapped into the target, with the load bias that turns its link-time addresses into runtime ones. */
export interface LoadedElf {
  elf: ElfFacts;
  path: string;
  base: bigint;
}

export interface PythonTarget {
  pid: number;
  exePath: string;
  libPath?: string;
  build: 'shared' | 'static';
  version: PythonVersion;
  /** runtime address of _PyRuntime */
  pyRuntime: bigint;
  /** runtime address of the executable's ELF entry point (_start: run once at start-up only) */
  entryAddr: bigint;
  maps: MapEntry[];
  /** runtime address of a symbol, looked up in the executable then in libpython */
  symbol(name: string): bigint | undefined;
  /** release the open ELF files */
  close(): void;
}

export const MIN_MINOR = 8;
export const MAX_MINOR = 14;

const LIBPYTHON_RE = /^libpython3\.(\d+)([a-z]*)\.so/;

/** how /proc/PID/maps names a file deleted (or replaced: an upgrade) since it was mapped */
const DELETED = ' (deleted)';

/**
 * The file to open for one mapped into the target: through /proc/PID/root so that
 * containers (other mount namespaces) work; one deleted or replaced since it was loaded (a
 * package upgrade, a rebuilt virtualenv) through /proc/PID/map_files (root only), as the
 * file at its path, if any, is another one.
 */
export function mappedFilePath(pid: number, maps: MapEntry[], path: string): string {
  if (path.endsWith(DELETED)) {
    const m = maps.find((x) => x.path === path && x.offset === 0n) ?? maps.find((x) => x.path === path);
    if (m) return `/proc/${pid}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`;
  }
  const viaRoot = `/proc/${pid}/root${path}`;
  return existsSync(viaRoot) ? viaRoot : path;
}

/** The interpreter's file, opened; a file that may not be read is the user's error, said in one line. */
function mappedFile(facts: BinaryFacts, pid: number, maps: MapEntry[], path: string): ElfFacts {
  const file = mappedFilePath(pid, maps, path);
  try {
    return facts.file(file, () => ElfFile.open(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOENT') throw e;
    if (!processExists(pid)) throw new ProcessGoneError(pid);
    throw new UserError(
      `cannot read ${path}, the Python of process ${pid}: ${code}`,
      path.endsWith(DELETED)
        ? 'it was deleted or replaced since the process started (an upgrade?): only root may read it then (through /proc/PID/map_files)'
        : 'run as root or as a user that may read that file',
    );
  }
}

function loadBias(elf: ElfFacts, maps: MapEntry[], path: string): bigint | undefined {
  const first = maps.filter((m) => m.path === path).sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0))[0];
  if (first?.offset !== 0n) return undefined;
  return first.start - elf.firstLoadVaddr;
}

const LEVELS: Record<number, string> = { 0xa: 'alpha', 0xb: 'beta', 0xc: 'candidate', 0xf: 'final' };
const LEVEL_SUFFIX: Record<string, string> = { alpha: 'a', beta: 'b', candidate: 'rc' };

export function versionFromHex(hex: number): PythonVersion {
  const major = (hex >>> 24) & 0xff;
  const minor = (hex >>> 16) & 0xff;
  const micro = (hex >>> 8) & 0xff;
  const releaselevel = LEVELS[(hex >>> 4) & 0xf] ?? 'unknown';
  const serial = hex & 0xf;
  const suffix = LEVEL_SUFFIX[releaselevel] ? `${LEVEL_SUFFIX[releaselevel]}${serial}` : '';
  return { major, minor, micro, releaselevel, serial, text: `${major}.${minor}.${micro}${suffix}` };
}

/** "3.9.18 (main, ...)" as sys.version holds it; also accepts "3.10.0rc2 (". */
export function versionFromString(s: string): PythonVersion | undefined {
  const m = /(3)\.(\d{1,2})\.(\d{1,2})(?:(a|b|rc)(\d+))?\+? \(/.exec(s);
  if (!m) return undefined;
  const releaselevel = m[4] === 'a' ? 'alpha' : m[4] === 'b' ? 'beta' : m[4] === 'rc' ? 'candidate' : 'final';
  return {
    major: 3,
    minor: Number(m[2]),
    micro: Number(m[3]),
    releaselevel,
    serial: m[5] ? Number(m[5]) : 0,
    text: `${m[1]}.${m[2]}.${m[3]}${m[4] ? m[4] + m[5] : ''}`,
  };
}

/**
 * Version of the running interpreter, most reliable source first: the _Py_DebugOffsets
 * header (3.13+), the Py_Version symbol (3.11+), the sys.version string that
 * Py_GetVersion formats into its static buffer at start-up (found in .bss), then the
 * minor from the file name alone.
 */
function detectVersion(
  mem: ProcessMemory,
  runtime: bigint,
  sym: (n: string) => bigint | undefined,
  files: LoadedElf[],
  nameMinor?: number,
): PythonVersion {
  try {
    const head = mem.read(runtime, 16);
    if (head.toString('latin1', 0, 8) === 'xdebugpy') return versionFromHex(Number(head.readBigUInt64LE(8) & 0xffffffffn));
  } catch (e) {
    if (!(e instanceof MemoryReadError)) throw e;
  }
  const pyVersion = sym('Py_Version');
  if (pyVersion !== undefined) {
    try {
      return versionFromHex(mem.u32(pyVersion));
    } catch (e) {
      if (!(e instanceof MemoryReadError)) throw e;
    }
  }
  for (const f of files) {
    const bss = f.elf.section('.bss');
    if (!bss) continue;
    try {
      const data = mem.read(f.base + bss.addr, Math.min(Number(bss.size), 4 << 20)).toString('latin1');
      const v = versionFromString(data);
      if (v && (nameMinor === undefined || v.minor === nameMinor)) return v;
    } catch (e) {
      if (!(e instanceof MemoryReadError)) throw e;
    }
  }
  if (nameMinor !== undefined) {
    return { major: 3, minor: nameMinor, micro: 0, releaselevel: 'unknown', serial: 0, text: `3.${nameMinor}` };
  }
  throw new NotPythonError(`process ${mem.pid} looks like CPython but its version could not be determined`);
}

export function locatePython(pid: number): PythonTarget {
  try {
    return locate(pid);
  } catch (e) {
    // a process exiting meanwhile looks like no Python (no libpython mapped, its files
    // gone): say that it exited
    if (!(e instanceof ProcessGoneError) && isExiting(pid)) throw new ProcessGoneError(pid, `process ${pid} exited while being read`);
    throw e;
  }
}

function locate(pid: number): PythonTarget {
  if (!processExists(pid)) throw new ProcessGoneError(pid);
  const info = processInfo(pid);
  const maps = readMaps(pid);
  const exeMap = info.exe && maps.find((m) => m.path === info.exe);
  const exePath = info.exe ?? '';
  const libMaps = maps
    .filter((m) => LIBPYTHON_RE.test(basename(m.path)))
    .sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  const libPath = libMaps[0]?.path;

  const files: LoadedElf[] = [];
  // what was learnt about the files (the symbols the reader asks for after this too) is
  // kept for the next run when the target is closed
  const facts = new BinaryFacts();
  const closeAll = () => {
    files.forEach((f) => f.elf.close());
    facts.save();
  };
  try {
    if (exeMap) {
      try {
        const exeFile = `/proc/${pid}/exe`;
        const elf = facts.file(exeFile, () => ElfFile.open(exeFile));
        const base = loadBias(elf, maps, exePath);
        if (base !== undefined) files.push({ elf, path: exePath, base });
        else elf.close();
      } catch (e) {
        // a shared build still works when the executable cannot be parsed
        if (!(e instanceof NotElfError) && !libPath) throw e;
      }
    }
    if (libPath) {
      const elf = mappedFile(facts, pid, maps, libPath);
      const base = loadBias(elf, maps, libPath);
      if (base !== undefined) files.push({ elf, path: libPath, base });
      else elf.close();
    }
    // libpython first: in a shared build it defines every symbol asked for, and the
    // executable's own tables then never need reading (a share of a dump's start-up)
    const lookupOrder = files.slice().reverse();
    const symbol = (name: string): bigint | undefined => {
      for (const f of lookupOrder) {
        const s = f.elf.symbol(name);
        if (s && s.value !== 0n) return f.base + s.value;
      }
      return undefined;
    };
    const pyRuntime = symbol('_PyRuntime');
    if (pyRuntime === undefined) {
      throw new NotPythonError(
        `process ${pid} (${info.cmdline.slice(0, 80) || exePath}) is not a CPython process: no libpython mapped and no _PyRuntime symbol in ${exePath || 'its executable'}`,
      );
    }
    const libMatch = libPath ? LIBPYTHON_RE.exec(basename(libPath)) : null;
    const exeMatch = /python3\.(\d+)([a-z]*)$/.exec(basename(exePath));
    const nameMinor = libMatch ? Number(libMatch[1]) : exeMatch ? Number(exeMatch[1]) : undefined;
    const abiFlags = libMatch ? libMatch[2] : exeMatch ? exeMatch[2] : '';

    // a file's version never changes: kept with the file that holds the symbols
    const holder = lookupOrder[0].elf;
    let version = facts.version(holder);
    if (!version) {
      const mem = ProcessMemory.open(pid);
      try {
        version = detectVersion(mem, pyRuntime, symbol, lookupOrder, nameMinor);
      } finally {
        mem.close();
      }
      // (not a version guessed from the file name alone: the next run looks again)
      if (version.releaselevel !== 'unknown') facts.rememberVersion(holder, version);
    }
    // both probes are for names a release build lacks: a miss must not read whole
    // symbol tables. A debug build exports _Py_NegativeRefcount; free-threaded builds
    // exist from 3.13 on.
    const exported = (name: string) => lookupOrder.some((f) => (f.elf.exported(name)?.value ?? 0n) !== 0n);
    if (abiFlags.includes('d') || exported('_Py_NegativeRefcount')) {
      throw new NotPythonError(
        `process ${pid} runs a debug build of Python ${version.text}, which spyglass does not support`,
        'use a release build of CPython',
      );
    }
    if (abiFlags.includes('t') || (version.minor >= 13 && symbol('_Py_brc_queue_object') !== undefined)) {
      throw new NotPythonError(`process ${pid} runs a free-threaded build of Python ${version.text}, which spyglass does not support yet`);
    }
    if (version.major !== 3 || version.minor < MIN_MINOR || version.minor > MAX_MINOR) {
      throw new NotPythonError(
        `process ${pid} runs Python ${version.text}, which spyglass does not support`,
        `spyglass reads CPython 3.${MIN_MINOR} to 3.${MAX_MINOR}`,
      );
    }
    const exeFile = files.find((f) => f.path === exePath);
    return {
      pid,
      exePath,
      libPath,
      build: libPath ? 'shared' : 'static',
      version,
      pyRuntime,
      entryAddr: exeFile ? exeFile.base + exeFile.elf.entry : 0n,
      maps,
      symbol,
      close: closeAll,
    };
  } catch (e) {
    closeAll();
    throw e;
  }
}
