// Runs the built spyglass CLI (dist/src/cli/main.js) as a child process, optionally as
// another user (setpriv), and collects its output and exit code.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';

export const CLI_MAIN = join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** run as this user (setpriv), from / */
  uid?: number;
  /** killed after this long, and the promise rejects with what it printed (default 30 s) */
  timeoutMs?: number;
  cwd?: string;
  /** added to this process's environment */
  env?: NodeJS.ProcessEnv;
  /** gets the child's pid as soon as it runs (to send it signals) */
  onStart?: (pid: number) => void;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  const argv = [process.execPath, CLI_MAIN, ...args];
  const [cmd, ...rest] =
    opts.uid === undefined ? argv : ['setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups', ...argv];
  const env = { ...process.env, ...opts.env };
  delete env.NODE_EXTRA_CA_CERTS; // loading extra certificates slows every start; spyglass makes no TLS connection
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'], env, cwd: opts.cwd ?? (opts.uid === undefined ? undefined : '/') });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`spyglass ${args.join(' ')} timed out; stdout=${stdout} stderr=${stderr}`));
    }, opts.timeoutMs ?? 30000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (p.pid !== undefined) opts.onStart?.(p.pid);
  });
}
