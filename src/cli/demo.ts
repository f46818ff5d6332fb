// `spyglass demo`: starts the bundled sample service (examples/sample_service.py) with a
// Python found on this machine, shows its thread stacks the way `dump` does, and stops it.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { renderStackText } from '../commands/render-stack.js';
import { EXAMPLES_DIR } from '../paths.js';
import { openReader } from '../reader/reader.js';
import { SUPPORTED_MINORS } from '../reader/layouts/index.js';

const READY_TIMEOUT_MS = 30000;

/** python3 on PATH first, then pyenv's newest, then the system one; resolved to the real executable. */
export function findPython(): string {
  const candidates: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, 'python3'));
  const pyenv = '/root/.pyenv/versions';
  if (existsSync(pyenv)) {
    for (const v of readdirSync(pyenv).sort((a, b) => b.localeCompare(a, undefined, { numeric: true }))) {
      const m = /^3\.(\d+)\.\d+$/.exec(v);
      if (m) candidates.push(join(pyenv, v, 'bin', `python3.${m[1]}`));
    }
  }
  candidates.push('/usr/bin/python3');
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    try {
      const [minor, exe] = execFileSync(c, ['-c', 'import sys;print(sys.version_info[1]);print(sys.executable)'], {
        encoding: 'utf8',
        timeout: 10000,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim().split('\n');
      if (sys3(minor) && exe) return exe;
    } catch {
      // not runnable: try the next
    }
  }
  throw new UserError('no supported Python found for the demo', `install CPython 3.${SUPPORTED_MINORS[0]} or later as python3 on PATH`);
}

function sys3(minor: string): boolean {
  return SUPPORTED_MINORS.includes(Number(minor));
}

export async function runDemo(write: (s: string) => void): Promise<void> {
  const python = findPython();
  const script = join(EXAMPLES_DIR, 'sample_service.py');
  const child = spawn(python, ['-u', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      let err = '';
      const timer = setTimeout(() => reject(new UserError(`the sample service did not start within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (/^READY/m.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new UserError(`the sample service exited (code ${code}) before it was ready: ${err.trim().split('\n').pop() ?? ''}`));
      });
    });
    write(`spyglass demo: started ${script} with ${python} (pid ${child.pid}); its threads, read from outside:\n\n`);
    const reader = await openReader(child.pid!);
    try {
      write(renderStackText(reader.sample()));
    } finally {
      reader.close();
    }
  } finally {
    stop();
  }
  write(`\nspyglass demo: stopped the sample service (pid ${child.pid}). Try \`spyglass dump PID\` on your own process.\n`);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .summary('start a bundled sample Python service, show its thread stacks, stop it')
    .description(
      'Starts examples/sample_service.py (an HTTP API with worker threads, standard library only) with\n' +
        'python3 from PATH (or an installed CPython), prints its thread stacks as `spyglass dump` would,\n' +
        'and stops it.',
    )
    .action(async () => {
      await runDemo((s) => process.stdout.write(s));
    });
}
