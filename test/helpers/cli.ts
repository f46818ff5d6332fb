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
  uid?: number;
  timeoutMs?: number;
  /** added to the environment (e.g. COLUMNS) */
  env?: NodeJS.ProcessEnv;
  /** written to its stdin, which then ends (otherwise stdin is /dev/null) */
  input?: string;
  /**
   * Act as `| head -N`: once N lines have come, close the reading end of stdout (the CLI's
   * next write to it fails with EPIPE); `stdout` holds those N lines.
   */
  closeStdoutAfterLines?: number;
  /** `2>&1`: stderr goes to the stdout pipe (`stderr` is then empty) */
  stderrToStdout?: boolean;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  const cli = [process.execPath, CLI_MAIN, ...args];
  const argv = opts.stderrToStdout ? ['sh', '-c', 'exec "$@" 2>&1', 'sh', ...cli] : cli;
  const [cmd, ...rest] =
    opts.uid === undefined ? argv : ['setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups', ...argv];
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, rest, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      cwd: opts.uid === undefined ? undefined : '/',
      env: { ...process.env, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const n = opts.closeStdoutAfterLines;
      if (n === undefined || stdout.split('\n').length <= n) return;
      stdout = stdout.split('\n').slice(0, n).join('\n') + '\n';
      p.stdout!.destroy();
    });
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // a closed stdin (the CLI gone first) is not the test's failure
    p.stdin?.on('error', () => undefined);
    p.stdin?.end(opts.input);
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
