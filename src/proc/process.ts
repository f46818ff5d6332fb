// Plain facts about processes from /proc: existence, owner, command line, threads and
// their scheduler state. No ptrace, nothing that disturbs the target.
import { readFileSync, readdirSync, readlinkSync, realpathSync, existsSync } from 'node:fs';
import { PermissionError, ProcessGoneError } from '../errors.js';

/** Turns an fs error on /proc/PID/... into the user error it means. */
export function procError(pid: number, e: unknown, what: string): Error {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ESRCH') return new ProcessGoneError(pid);
  if (code === 'EACCES' || code === 'EPERM') return new PermissionError(pid, what);
  return e as Error;
}

export function processExists(pid: number): boolean {
  return Number.isInteger(pid) && pid > 0 && existsSync(`/proc/${pid}/stat`);
}

/** Whether process `pid` runs the same Node as this one: another spyglass, in practice. */
export function isSpyglass(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/exe`) === realpathSync(process.execPath);
  } catch {
    return false;
  }
}

/** Gone, or a zombie its parent has not reaped yet: it will run no more. */
export function hasExited(pid: number): boolean {
  const state = threadState(pid, pid);
  return state === undefined || state === 'Z';
}

/** The kernel thread daemon: every kernel thread is it or its child, and has no memory map. */
const KTHREADD = 2;

/**
 * Exited, or exiting: a process on its way out releases its address space before it
 * becomes a zombie, and meanwhile its memory reads as nothing, its map and command line
 * are empty, and files opened through it are gone. Work on it that failed for one of
 * these reasons failed because it exited.
 */
export function isExiting(pid: number): boolean {
  if (hasExited(pid)) return true;
  try {
    if (readFileSync(`/proc/${pid}/maps`, 'utf8') !== '') return false;
    return pid !== KTHREADD && processInfo(pid).ppid !== KTHREADD;
  } catch {
    return !processExists(pid); // unreadable (another user's): not ours to judge
  }
}

/** The pid of the process tracing thread tid of pid (a debugger, strace), or 0. */
export function tracerOf(pid: number, tid = pid): number {
  try {
    return Number(/^TracerPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  uid: number;
  readonly user: string;
  /** argv joined by spaces ("" for kernel threads) */
  cmdline: string;
  argv: string[];
  /** resolved executable path, undefined when we may not read it */
  exe?: string;
  /** scheduler state letter: R, S, D, Z, T, ... */
  state: string;
}

let passwdCache: Map<number, string> | undefined;
export function userName(uid: number): string {
  if (!passwdCache) {
    passwdCache = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length > 2) passwdCache.set(Number(f[2]), f[0]);
      }
    } catch {
      /* no passwd: numeric names */
    }
  }
  return passwdCache.get(uid) ?? String(uid);
}

/** Parses /proc/.../stat, whose second field (comm) may contain spaces and parentheses. */
export function parseStat(text: string): { comm: string; state: string; ppid: number; utime: number; stime: number; fields: string[] } {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const comm = text.slice(open + 1, close);
  const fields = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // fields[0] is field 3 (state); utime/stime are fields 14/15
  return { comm, state: fields[0], ppid: Number(fields[1]), utime: Number(fields[11]), stime: Number(fields[12]), fields };
}

/** When `pid` started (clock ticks since boot, field 22 of its stat): with the pid, it names
 * one process for good, as a pid alone is reused. Undefined once it is gone. */
export function startTime(pid: number): string | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).fields[19];
  } catch {
    return undefined;
  }
}

export function processInfo(pid: number): ProcessInfo {
  try {
    const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv.length && argv[argv.length - 1] === '') argv.pop();
    let exe: string | undefined;
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      exe = undefined;
    }
    return {
      pid,
      ppid: stat.ppid,
      uid,
      // looked up when asked (ps): reading /etc/passwd was a share of every dump's start-up
      get user() {
        return userName(uid);
      },
      cmdline: argv.join(' '),
      argv,
      exe,
      state: stat.state,
    };
  } catch (e) {
    throw procError(pid, e, 'inspect');
  }
}

export function listPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

export function listThreads(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`)
      .map(Number)
      .sort((a, b) => a - b);
  } catch (e) {
    throw procError(pid, e, 'list the threads of');
  }
}

/** Scheduler state letter of one thread (R = running), or undefined if it has gone. */
export function threadState(pid: number, tid: number): string | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')).state;
  } catch {
    return undefined;
  }
}
