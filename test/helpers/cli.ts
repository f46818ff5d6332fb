// Runs the built spyglass CLI as a child process, optionally as another user (setpriv),
// and collects its output and exit code. CLI_MAIN is the bundled file the package's `bin`
// runs (scripts/bundle.mjs), so that the tests run what users run.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';

export const CLI_MAIN = join(PACKAGE_ROOT, 'dist', 'bin', 'spyglass.js');

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
  /** added to this process's environment (e.g. COLUMNS) */
  env?: NodeJS.ProcessEnv;
  /** gets the child's pid as soon as it runs (to send it signals) */
  onStart?: (pid: number) => void;
  /** gets what it printed on stderr so far, each time more comes (to act once it says something) */
  onStderr?: (soFar: string, pid: number) => void;
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
  const env = { ...process.env, ...opts.env };
  delete env.NODE_EXTRA_CA_CERTS; // loading extra certificates slows every start; spyglass makes no TLS connection
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, rest, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env,
      cwd: opts.cwd ?? (opts.uid === undefined ? undefined : '/'),
    });
    let stdout = '';
    let stderr = '';
    p.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const n = opts.closeStdoutAfterLines;
      if (n === undefined || stdout.split('\n').length <= n) return;
      stdout = `${stdout.split('\n').slice(0, n).join('\n')}\n`;
      p.stdout!.destroy();
    });
    p.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      opts.onStderr?.(stderr, p.pid!);
    });
    // a closed stdin (the CLI gone first) is not the test's failure
    p.stdin?.on('error', () => undefined);
    p.stdin?.end(opts.input);
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
