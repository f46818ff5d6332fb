// Drives a program on a real terminal: a detached tmux session (on a tmux server of the
// tests' own, so a user's sessions are never touched) running one command; keys are sent
// with send-keys and the screen read with capture-pane. Every wait is bounded. Always
// kill() the session in t.after/finally.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** one tmux server per test process */
const SOCKET = `spyglass-tests-${process.pid}`;
let sessions = 0;

async function tmux(...args: string[]): Promise<string> {
  // -f /dev/null: none of the user's tmux configuration
  return (await run('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' })).stdout;
}

export interface TmuxSession {
  name: string;
  /** tmux key names or literal text, one argument each: send('wat', 'Tab'), send('C-c') */
  send(...keys: string[]): Promise<void>;
  /** text typed as it is (no key-name lookup: 'Enter' stays five letters) */
  type(text: string): Promise<void>;
  /** the whole screen and scrollback, trailing blank lines dropped */
  screen(): Promise<string>;
  /** the last non-blank line of the screen: where the prompt and the line being typed are */
  lastLine(): Promise<string>;
  /** the index of the screen's last line (the prompt being typed on): pass it as `since` to look only at what comes from there */
  mark(): Promise<number>;
  /**
   * Waits until the screen from line `since` on (the whole screen by default) matches
   * the pattern or the predicate; resolves with that part of the screen.
   */
  waitFor(what: RegExp | ((screen: string) => boolean), opts?: { since?: number; timeoutMs?: number }): Promise<string>;
  /** the exit status once the command has ended (128 + N if signal N killed it), undefined while it runs */
  exitStatus(): Promise<number | undefined>;
  waitForExit(timeoutMs?: number): Promise<number>;
  kill(): Promise<void>;
}

/** Runs argv (no shell) in a new session of a width x height terminal. */
export async function startTmux(
  argv: string[],
  opts: { env?: Record<string, string>; cwd?: string; width?: number; height?: number } = {},
): Promise<TmuxSession> {
  const name = `s${++sessions}`;
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const target = `${name}:0.0`;
  // the pane must stay (with its last screen) however fast the command
  // ends: open the session on a shell, set remain-on-exit, then replace the shell
  await tmux(
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    String(opts.width ?? 160),
    '-y',
    String(opts.height ?? 50),
    ...(opts.cwd ? ['-c', opts.cwd] : []),
  );
  await tmux('set-option', '-t', name, 'remain-on-exit', 'on');
  // The exit status is recorded by a shell that waits for the command, not read from tmux:
  // tmux 3.3 was seen to leave a pane's exited command unreaped (a zombie; pane dead but
  // no status) when a SIGCHLD came while it was busy with another child. The shell's trap
  // is a handler, not an ignore, so the command still gets SIGINT with the default action
  // (handlers are reset by exec); the shell just outlives it. `$?` of a command killed by
  // signal N is 128 + N.
  const statusDir = mkdtempSync(join(tmpdir(), 'spyglass-tmux-'));
  const statusFile = join(statusDir, 'status');
  const script = 'trap : INT; "$@"; echo $? > "$0.part" && mv "$0.part" "$0"';
  await tmux(
    'respawn-pane',
    '-k',
    '-t',
    target,
    ...(opts.cwd ? ['-c', opts.cwd] : []),
    'env',
    ...env,
    'sh',
    '-c',
    script,
    statusFile,
    ...argv,
  );
  const screen = async () => (await tmux('capture-pane', '-p', '-J', '-S', '-', '-t', target)).replace(/\s+$/, '');
  const exitStatus = async () => {
    try {
      return Number(readFileSync(statusFile, 'utf8'));
    } catch {
      return undefined; // still running
    }
  };
  const session: TmuxSession = {
    name,
    async send(...keys) {
      await tmux('send-keys', '-t', target, ...keys);
    },
    async type(text) {
      await tmux('send-keys', '-t', target, '-l', text);
    },
    screen,
    async lastLine() {
      return (await screen()).split('\n').at(-1) ?? '';
    },
    async mark() {
      return (await screen()).split('\n').length - 1;
    },
    async waitFor(what, { since = 0, timeoutMs = 20000 } = {}) {
      const test = typeof what === 'function' ? what : (s: string) => what.test(s);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = (await screen()).split('\n').slice(since).join('\n');
        if (test(s)) return s;
        if (Date.now() > deadline)
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} on the terminal:\n${s.split('\n').slice(-25).join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    exitStatus,
    async waitForExit(timeoutMs = 20000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const status = await exitStatus();
        if (status !== undefined) return status;
        if (Date.now() > deadline)
          throw new Error(
            `the command in tmux session ${name} did not exit within ${timeoutMs} ms:\n${(await screen()).split('\n').slice(-25).join('\n')}`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async kill() {
      await tmux('kill-session', '-t', name).catch(() => undefined);
      rmSync(statusDir, { recursive: true, force: true });
    },
  };
  return session;
}
