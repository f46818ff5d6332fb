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

export function runCli(args: string[], opts: { uid?: number; timeoutMs?: number } = {}): Promise<CliRun> {
  const argv = [process.execPath, CLI_MAIN, ...args];
  const [cmd, ...rest] =
    opts.uid === undefined ? argv : ['setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups', ...argv];
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.uid === undefined ? undefined : '/' });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
