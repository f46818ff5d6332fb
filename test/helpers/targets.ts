// Starts real Python target programs from test/targets/ and makes sure they are stopped
// by pid when the test ends, even when it fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import type { Interpreter } from './pythons.js';

export const TARGETS_DIR = join(PACKAGE_ROOT, 'test', 'targets');

export interface Target {
  pid: number;
  proc: ChildProcess;
  /** everything the target printed on stdout so far */
  stdout(): string;
  stderr(): string;
  /** resolves with the first stdout line matching re (already printed or future) */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** true while the process has not exited */
  alive(): boolean;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) {
    try {
      if (p.pid) process.kill(p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/**
 * Runs `python -u test/targets/<script> ...args` and waits until it prints a line
 * starting with READY (every target prints one once its threads are in place).
 */
export async function startTarget(
  py: Interpreter | string,
  script: string,
  args: string[] = [],
  opts: { readyTimeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Target> {
  const exe = typeof py === 'string' ? py : py.path;
  const scriptPath = script.startsWith('/') ? script : join(TARGETS_DIR, script);
  const proc = spawn(exe, ['-u', scriptPath, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
  });
  live.add(proc);
  let out = '';
  let err = '';
  let exited = false;
  const waiters: Array<() => void> = [];
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exitPromise = new Promise<void>((resolve) =>
    proc.on('exit', () => {
      exited = true;
      live.delete(proc);
      for (const w of waiters.splice(0)) w();
      resolve();
    }),
  );
  const target: Target = {
    pid: proc.pid!,
    proc,
    stdout: () => out,
    stderr: () => err,
    alive: () => !exited,
    waitFor(re: RegExp, timeoutMs = 15000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${re} from ${scriptPath}; stdout=${out.slice(-500)} stderr=${err.slice(-500)}`)),
          timeoutMs,
        );
        const check = () => {
          const line = out.split('\n').find((l) => re.test(l));
          if (line !== undefined) {
            clearTimeout(timer);
            resolve(line);
          } else if (exited) {
            clearTimeout(timer);
            reject(new Error(`${scriptPath} exited before printing ${re}; stderr=${err.slice(-1000)}`));
          } else waiters.push(check);
        };
        check();
      });
    },
    async stop() {
      if (!exited) {
        try {
          process.kill(proc.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await exitPromise;
    },
  };
  await target.waitFor(/^READY/, opts.readyTimeoutMs ?? 20000).catch(async (e) => {
    await target.stop();
    throw e;
  });
  return target;
}
