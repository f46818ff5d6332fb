// The Python processes on this host, with their exact version and build: what
// `spyglass ps` prints and `spyglass web`'s processes page lists.
import { basename } from 'node:path';
import { NotPythonError, PermissionError, ProcessGoneError } from '../errors.js';
import { ElfFile } from '../proc/elf.js';
import { readMaps } from '../proc/maps.js';
import { listPids, processInfo, type ProcessInfo } from '../proc/process.js';
import { BinaryFacts } from './binary-facts.js';
import { locatePython } from './locate.js';

export interface PythonProcess {
  pid: number;
  /** e.g. "3.11.7"; "?" when we may not read the process */
  version: string;
  build: 'shared' | 'static' | '?';
  user: string;
  command: string;
}

const LIBPYTHON = /\/libpython3\.\d+[a-z]*\.so/;

/**
 * Cheap pre-check before the full locate: libpython is mapped, or the executable (looked
 * at once per file) exports _PyRuntime, which static builds and embedders do.
 */
function mayBePython(info: ProcessInfo, exeHasRuntime: Map<string, boolean>, facts: BinaryFacts): boolean {
  const maps = readMaps(info.pid);
  if (maps.some((m) => LIBPYTHON.test(m.path))) return true;
  if (!info.exe) return false;
  let has = exeHasRuntime.get(info.exe);
  if (has === undefined) {
    // the answer is kept between runs (docs/binary-facts.md): node, bash and the rest are
    // not opened again by the next `ps`
    const exe = `/proc/${info.pid}/exe`;
    try {
      const elf = facts.file(exe, () => ElfFile.open(exe));
      try {
        has = elf.symbol('_PyRuntime') !== undefined;
      } finally {
        elf.close();
      }
    } catch {
      has = false;
    }
    exeHasRuntime.set(info.exe, has);
  }
  return has;
}

export function listPythonProcesses(): PythonProcess[] {
  const out: PythonProcess[] = [];
  const exeHasRuntime = new Map<string, boolean>();
  const facts = new BinaryFacts();
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    let info: ProcessInfo;
    try {
      info = processInfo(pid);
    } catch {
      continue; // gone
    }
    if (!info.cmdline || info.state === 'Z') continue; // kernel threads, zombies
    const row = { pid, user: info.user, command: info.cmdline };
    try {
      if (!mayBePython(info, exeHasRuntime, facts)) continue;
      const t = locatePython(pid);
      t.close();
      out.push({ ...row, version: t.version.text, build: t.build });
    } catch (e) {
      if (e instanceof PermissionError) {
        // not ours to read: still worth listing when its name says it is Python
        if (/python/i.test(basename(info.argv[0] ?? ''))) out.push({ ...row, version: '?', build: '?' });
      } else if (!(e instanceof NotPythonError || e instanceof ProcessGoneError)) throw e;
    }
  }
  facts.save();
  return out;
}
