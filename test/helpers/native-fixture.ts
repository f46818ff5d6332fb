// Builds test/fixtures/native/frames.c with gcc and runs it, for the native unwinder's
// tests; reads one thread's native stack the way `dump --native` does (seize, registers,
// unwind, detach). Every process started here is stopped by pid when the test ends.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tracee } from '../../src/proc/ptrace.js';
import type { NativeProcess } from '../../src/native/native-process.js';
import type { NativeFrame } from '../../src/native/types.js';
import type { RawStack } from '../../src/native/unwind.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

export const FRAMES_C = join(PACKAGE_ROOT, 'test', 'fixtures', 'native', 'frames.c');

/** The 1-based line of the `LINE:marker ` comment in a fixture's C or C++ source. */
export function sourceMarkerLine(source: string, marker: string): number {
  const i = readFileSync(source, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(`LINE:${marker} `));
  assert.ok(i >= 0, `${marker} in ${source}`);
  return i + 1;
}

export function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export class FixtureDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'spyglass-native-'));
  private readonly pids = new Set<number>();

  /** Compiles frames.c with these gcc options; returns the executable's path. */
  build(name: string, flags: string[]): string {
    const out = join(this.dir, name);
    execFileSync('gcc', [...flags, '-o', out, FRAMES_C]);
    return out;
  }

  /** Starts exe (not as our child: Node's own waitpid would take the ptrace stops) and waits for READY. */
  async start(exe: string, args: string[] = []): Promise<number> {
    const sh = spawn('/bin/sh', ['-c', '"$@" & wait $!', 'sh', exe, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    sh.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    for (const until = Date.now() + 10000; Date.now() < until; await new Promise((r) => setTimeout(r, 10))) {
      // the program prints its own pid
      const m = /READY (\d+)\n/.exec(out);
      if (m) {
        const pid = Number(m[1]);
        this.pids.add(pid);
        return pid;
      }
    }
    throw new Error(`${exe} did not start: ${out}`);
  }

  stop(pid: number): void {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    this.pids.delete(pid);
  }

  cleanup(): void {
    for (const pid of [...this.pids]) this.stop(pid);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Seizes tid, unwinds it and lets it go; returns the named frames and why the walk stopped early, if it did. */
export async function nativeStackOf(np: NativeProcess, tid: number): Promise<{ frames: NativeFrame[]; stopped?: string }> {
  const { tracee, pendingSignal } = await Tracee.seize(tid, Date.now() + 2000);
  let raw: RawStack;
  try {
    raw = np.unwind(tracee.getRegs());
  } finally {
    tracee.detach(pendingSignal);
  }
  return { frames: np.symbolize(raw), stopped: raw.stopped };
}

/** Waits until the process's main thread is running (R), e.g. after a signal woke it. */
export async function waitRunning(pid: number): Promise<void> {
  for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 10))) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'R') return;
  }
  throw new Error(`process ${pid} did not start running`);
}

/**
 * Waits until the process's main thread sleeps in system call `nr` (/proc/PID/syscall's
 * first field), e.g. pause() (34 on x86_64) once a program is past its READY write.
 */
export async function waitInSyscall(pid: number, nr: number): Promise<void> {
  for (const until = Date.now() + 10000; Date.now() < until; await new Promise((r) => setTimeout(r, 10))) {
    if (readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0] === String(nr)) return;
  }
  throw new Error(`process ${pid} did not reach system call ${nr}`);
}

/** Symbol names `nm` lists as defined in file, of the given nm type letters (all when omitted). */
function definedSymbols(file: string, dynamic: boolean, types?: string): Set<string> {
  const out = execFileSync('nm', [...(dynamic ? ['-D'] : []), '--format=posix', '--defined-only', file], { encoding: 'utf8' });
  const names = new Set<string>();
  for (const line of out.split('\n')) {
    const [name, type] = line.split(' ');
    if (name && (!types || types.includes(type))) names.add(name);
  }
  return names;
}

/**
 * Strips a library built with -g and gives it a MiniDebugInfo section, as Fedora's
 * find-debuginfo does: the function symbols that .dynsym lacks, kept alone in a copy of
 * the debug-only file (`objcopy --only-keep-debug`) without its debug sections,
 * xz-compressed into .gnu_debugdata. corrupt: bytes in the middle
 * of the compressed data are overwritten, so that the section cannot be decompressed.
 */
export function addMiniDebugInfo(lib: string, opts: { corrupt?: boolean } = {}): void {
  const dynamic = definedSymbols(lib, true);
  const keep = [...definedSymbols(lib, false, 'Tt')].filter((n) => !dynamic.has(n));
  const keepFile = `${lib}.keep`;
  writeFileSync(keepFile, `${keep.join('\n')}\n`);
  // from the debug-only copy, whose code sections are empty (NOBITS): symbols alone remain
  const debug = `${lib}.debug`;
  execFileSync('objcopy', ['--only-keep-debug', lib, debug]);
  const mini = `${lib}.mini`;
  execFileSync('objcopy', [
    '-S',
    '--remove-section',
    '.gdb_index',
    '--remove-section',
    '.comment',
    `--keep-symbols=${keepFile}`,
    debug,
    mini,
  ]);
  execFileSync('strip', ['--strip-all', lib]);
  execFileSync('xz', ['-f', mini]);
  if (opts.corrupt) {
    const xz = readFileSync(`${mini}.xz`);
    xz.fill(0x55, Math.floor(xz.length / 3), Math.floor((2 * xz.length) / 3));
    writeFileSync(`${mini}.xz`, xz);
  }
  execFileSync('objcopy', ['--add-section', `.gnu_debugdata=${mini}.xz`, lib]);
}
