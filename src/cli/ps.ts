// `spyglass ps`: the Python processes on this host, with their exact version and build.
import { basename } from 'node:path';
import type { Command } from 'commander';
import { NotPythonError, PermissionError, ProcessGoneError } from '../errors.js';
import { ElfFile } from '../proc/elf.js';
import { readMaps } from '../proc/maps.js';
import { listPids, processInfo, type ProcessInfo } from '../proc/process.js';
import { locatePython } from '../reader/locate.js';

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
function mayBePython(info: ProcessInfo, exeHasRuntime: Map<string, boolean>): boolean {
  const maps = readMaps(info.pid);
  if (maps.some((m) => LIBPYTHON.test(m.path))) return true;
  if (!info.exe) return false;
  let has = exeHasRuntime.get(info.exe);
  if (has === undefined) {
    try {
      const elf = ElfFile.open(`/proc/${info.pid}/exe`);
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
      if (!mayBePython(info, exeHasRuntime)) continue;
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
  return out;
}

export function renderPsText(rows: PythonProcess[]): string {
  if (!rows.length) return 'no Python processes found\n';
  const header = { pid: 'PID', version: 'PYTHON', build: 'BUILD', user: 'USER', command: 'COMMAND' };
  const all = [header, ...rows.map((r) => ({ ...r, pid: String(r.pid) }))];
  const w = (k: 'pid' | 'version' | 'build' | 'user') => Math.max(...all.map((r) => r[k].length));
  return all
    .map((r) => `${r.pid.padStart(w('pid'))}  ${r.version.padEnd(w('version'))}  ${r.build.padEnd(w('build'))}  ${r.user.padEnd(w('user'))}  ${r.command}`)
    .join('\n') + '\n';
}

export function registerPs(program: Command): void {
  program
    .command('ps')
    .summary('list the Python processes on this host')
    .description(
      'List running CPython processes: pid, exact Python version, build (shared libpython or a static ' +
        'executable), user and command line. Processes of other users show "?" unless you may read them.',
    )
    .option('--json', 'print a JSON array')
    .addHelpText(
      'after',
      `
Examples:
  spyglass ps
  spyglass ps --json`,
    )
    .action((o: { json?: boolean }) => {
      const rows = listPythonProcesses();
      process.stdout.write(o.json ? JSON.stringify(rows, null, 2) + '\n' : renderPsText(rows));
    });
}
