// Launch mode (`record -- python app.py`, `top -- python app.py`): the program started
// under spyglass, its end awaited, and stopped as Ctrl-C would stop it when the sampling
// ends first. Its own module so that node:child_process (with net and the stream
// machinery) is loaded by launch mode alone: the commands import it with import() (a
// dynamic import of node:child_process itself would not do: the bundle runs as a
// vm.Script, which has no dynamic-import callback).
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { hasExited } from '../proc/process.js';
import { reapChild } from '../proc/ptrace.js';

/** a program that ignores SIGINT when the sampling ends is killed after this */
const KILL_AFTER_MS = 3000;

export interface LaunchOptions {
  cwd?: string;
  /**
   * The program's stdout and stderr go to a private file rather than the terminal (`top`
   * draws there; py-spy's `record --capture`), its stdin is /dev/null: captured() reads it.
   */
  capture?: boolean;
  /** called once when the program ends by itself (or cannot be started) */
  onEnd: () => void;
}

export interface LaunchedProgram {
  pid: number;
  /** true once the program has ended */
  ended(): boolean;
  /** Stops the program if it still runs (SIGINT, then SIGKILL), and resolves with its exit code. */
  finish(): Promise<number>;
  /** What a captured program printed (stdout and stderr interleaved), '' otherwise. */
  captured(): string;
}

/** Starts command; rejects with a UserError when it cannot be run. */
export async function launchProgram(command: string[], opts: LaunchOptions): Promise<LaunchedProgram> {
  let outDir: string | undefined;
  let outFd: number | undefined;
  if (opts.capture) {
    outDir = mkdtempSync(join(tmpdir(), 'spyglass-output-'));
    outFd = openSync(join(outDir, 'output'), 'w+', 0o600);
  }
  const dropCapture = () => {
    if (outFd !== undefined) closeSync(outFd);
    outFd = undefined;
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  };
  const child = spawn(command[0], command.slice(1), {
    stdio: outFd === undefined ? 'inherit' : ['ignore', outFd, outFd],
    cwd: opts.cwd,
  });
  let ended = false;
  const exit = new Promise<number>((res, rej) => {
    const end = (code: number) => {
      ended = true;
      opts.onEnd();
      res(code);
    };
    child.once('error', (e) => {
      ended = true;
      opts.onEnd();
      rej(new UserError(`cannot run ${command[0]}: ${e.message}`));
    });
    child.once('exit', (code, sig) => {
      // --blocking ptraces the program: libuv takes a stop for its exit. It still runs:
      // its real end is then awaited here, as libuv no longer will.
      if (child.pid !== undefined && !hasExited(child.pid)) awaitEnd(child.pid).then(end);
      else end(code ?? 128 + (sig ? constants.signals[sig] : 0));
    });
  });
  // awaited by finish(); marked handled now, as an error may come before that
  exit.catch(() => {});
  // a spawn failure surfaces on the next tick, with no pid
  if (child.pid === undefined) {
    try {
      await exit;
    } finally {
      dropCapture();
    }
  }
  const pid = child.pid!;
  let captured = '';
  return {
    pid,
    ended: () => ended,
    async finish() {
      const running = !ended;
      // by pid: libuv may wrongly believe the program ended (see above); it is our unreaped
      // child, so the pid cannot belong to anyone else yet
      const signal = (sig: NodeJS.Signals) => process.kill(pid, sig);
      if (running) signal('SIGINT');
      const kill = running ? setTimeout(() => signal('SIGKILL'), KILL_AFTER_MS) : undefined;
      try {
        return await exit;
      } finally {
        clearTimeout(kill);
        if (outDir) captured = readFileSync(join(outDir, 'output'), 'utf8');
        dropCapture();
      }
    },
    captured: () => captured,
  };
}

/** Polls for the end of a child libuv stopped watching; its exit status when it comes. */
async function awaitEnd(pid: number): Promise<number> {
  for (;;) {
    const code = reapChild(pid);
    if (code !== undefined) return code;
    await new Promise((r) => setTimeout(r, 20));
  }
}
