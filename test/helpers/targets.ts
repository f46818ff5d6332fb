// Starts real Python target programs from test/targets/ and makes sure they are stopped
// by pid when the test ends, even when it fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
  /**
   * Resolves once the target shows progress after this call: a new line matching its
   * `progress` pattern, else a new heartbeat; rejects when it exited, or shows none
   * within timeoutMs (alive but frozen: a C loop holding the GIL, a collection that never
   * ends). Needs `progress` or `heartbeat` at start.
   */
  assertProgressing(timeoutMs?: number): Promise<void>;
  /**
   * Kills the target. One started with `progress` or `heartbeat` must still be alive and
   * progressing at that moment (checked first; it is killed either way), unless the test
   * says it expected the target to have exited: every test that attaches gets that check.
   */
  stop(opts?: { expectExited?: boolean }): Promise<void>;
}

/** The heartbeat's sitecustomize (test/targets/heartbeat/sitecustomize.py) and its descriptor. */
const HEARTBEAT_DIR = join(TARGETS_DIR, 'heartbeat');
const HEARTBEAT_FD = 3;
const PROGRESS_TIMEOUT_MS = 10000;

/** pids of the targets still running (for a notChild target, the target, not its shell) */
const live = new Set<number>();
process.on('exit', () => {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/** The pid of the one process `ppid` started (the shell of a notChild target). */
async function onlyChildOf(ppid: number): Promise<number> {
  for (const until = Date.now() + 10000; Date.now() < until; await new Promise((r) => setTimeout(r, 5))) {
    const kids = readFileSync(`/proc/${ppid}/task/${ppid}/children`, 'utf8').trim();
    if (kids) return Number(kids.split(' ')[0]);
  }
  throw new Error(`the shell ${ppid} did not start its target`);
}

/**
 * Runs `python -u test/targets/<script> ...args` and waits until it prints a line
 * starting with READY (every target prints one once its threads are in place).
 */
export async function startTarget(
  py: Interpreter | string,
  script: string,
  args: string[] = [],
  opts: {
    readyTimeoutMs?: number;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    notChild?: boolean;
    /** a daemon thread "test-heartbeat" beats on a pipe (for targets with no progress lines of their own) */
    heartbeat?: boolean;
    /** a stdout line the target prints again and again while it makes progress */
    progress?: RegExp;
  } = {},
): Promise<Target> {
  const exe = typeof py === 'string' ? py : py.path;
  const scriptPath = script.startsWith('/') ? script : join(TARGETS_DIR, script);
  const argv = [exe, '-u', scriptPath, ...args];
  // notChild: a shell between us and the target, for tests that ptrace it in this process
  // (Node reaps its own children with waitpid, which would also take the ptrace stops)
  const [cmd, ...cmdArgs] = opts.notChild ? ['/bin/sh', '-c', '"$@" & wait $!', 'sh', ...argv] : argv;
  const env = { ...process.env, ...opts.env };
  if (opts.heartbeat) {
    env.PYTHONPATH = [HEARTBEAT_DIR, env.PYTHONPATH].filter(Boolean).join(':');
    env.SPYGLASS_TEST_HEARTBEAT_FD = String(HEARTBEAT_FD);
  }
  const stdio: Array<'ignore' | 'pipe'> = opts.heartbeat ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'];
  const proc = spawn(cmd, cmdArgs, { stdio, env, cwd: opts.cwd });
  const pid = opts.notChild ? await onlyChildOf(proc.pid!) : proc.pid!;
  live.add(pid);
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
  let beats = 0;
  (proc.stdio[HEARTBEAT_FD] as NodeJS.ReadableStream | undefined)?.on('data', (d: Buffer) => {
    beats += d.length;
    for (const w of waiters.splice(0)) w();
  });
  let stdoutEnded = false;
  proc.stdout!.on('end', () => (stdoutEnded = true));
  let howExited = '';
  const exitPromise = new Promise<void>((resolve) =>
    proc.on('exit', (code, signal) => {
      howExited = signal ? `killed by ${signal}` : `exit code ${code}`;
      live.delete(pid);
      // 'exit' can come before the last output is read (a target that prints and ends at
      // once): its lines count until stdout ends (a grandchild may hold it: not for long)
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        exited = true;
        for (const w of waiters.splice(0)) w();
        resolve();
      };
      if (stdoutEnded) finish();
      else {
        proc.stdout!.once('end', finish);
        setTimeout(finish, 500);
      }
    }),
  );
  const target: Target = {
    pid,
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
          // complete lines only: a line may arrive in two chunks
          const line = out
            .split('\n')
            .slice(0, -1)
            .find((l) => re.test(l));
          if (line !== undefined) {
            clearTimeout(timer);
            resolve(line);
          } else if (exited) {
            clearTimeout(timer);
            reject(new Error(`${scriptPath} exited (${howExited}) before printing ${re}; stderr=${err.slice(-1000)}`));
          } else waiters.push(check);
        };
        check();
      });
    },
    assertProgressing(timeoutMs = PROGRESS_TIMEOUT_MS) {
      const progress = opts.progress;
      if (!progress && !opts.heartbeat)
        return Promise.reject(new Error(`${scriptPath} was started without a progress pattern or heartbeat`));
      const mark = () =>
        progress
          ? out
              .split('\n')
              .slice(0, -1)
              .filter((l) => progress.test(l)).length
          : beats;
      const start = mark();
      const what = progress ? `a new line matching ${progress}` : 'a heartbeat';
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`${scriptPath} (pid ${pid}) is alive but made no progress (${what}) in ${timeoutMs} ms; stderr=${err.slice(-500)}`),
            ),
          timeoutMs,
        );
        const check = () => {
          if (mark() > start) {
            clearTimeout(timer);
            resolve();
          } else if (exited) {
            clearTimeout(timer);
            reject(new Error(`${scriptPath} (pid ${pid}) exited (${howExited}); stderr=${err.slice(-1000)}`));
          } else waiters.push(check);
        };
        check();
      });
    },
    async stop(stopOpts = {}) {
      let failure: Error | undefined;
      if ((opts.progress || opts.heartbeat) && !stopOpts.expectExited) {
        await target.assertProgressing().catch((e: Error) => (failure = e));
      }
      if (!exited) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await exitPromise;
      if (failure) throw failure;
    },
  };
  await target.waitFor(/^READY/, opts.readyTimeoutMs ?? 20000).catch(async (e) => {
    await target.stop({ expectExited: true });
    throw e;
  });
  return target;
}

/** Line numbers of the `# LINE:tag` markers in a target script, by tag. */
export function markerLines(script: string): Record<string, number> {
  const lines: Record<string, number> = {};
  readFileSync(script, 'utf8')
    .split('\n')
    .forEach((l, i) => {
      const m = /# LINE:(\w+)/.exec(l);
      if (m) lines[m[1]] = i + 1;
    });
  return lines;
}
