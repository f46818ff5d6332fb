// `spyglass ps`: the Python processes on this host, with their exact version and build.
import type { Command } from 'commander';
import { listPythonProcesses, type PythonProcess } from '../reader/processes.js';

export function renderPsText(rows: PythonProcess[]): string {
  if (!rows.length) return 'no Python processes found\n';
  const header = { pid: 'PID', version: 'PYTHON', build: 'BUILD', user: 'USER', command: 'COMMAND' };
  const all = [header, ...rows.map((r) => ({ ...r, pid: String(r.pid) }))];
  const w = (k: 'pid' | 'version' | 'build' | 'user') => Math.max(...all.map((r) => r[k].length));
  return (
    all
      .map(
        (r) =>
          `${r.pid.padStart(w('pid'))}  ${r.version.padEnd(w('version'))}  ${r.build.padEnd(w('build'))}  ${r.user.padEnd(w('user'))}  ${r.command}`,
      )
      .join('\n') + '\n'
  );
}

export function registerPs(program: Command): void {
  program
    .command('ps')
    .summary('list the Python processes on this host')
    .description(
      'List running CPython processes: pid, exact Python version, build (shared libpython or a static ' +
        'executable), user and command line. Processes of other users show "?" unless you may read them.',
    )
    .option('--json', 'print a JSON array')
    .addHelpText(
      'after',
      `
Examples:
  spyglass ps
  spyglass ps --json`,
    )
    .action((o: { json?: boolean }) => {
      const rows = listPythonProcesses();
      process.stdout.write(o.json ? JSON.stringify(rows, null, 2) + '\n' : renderPsText(rows));
    });
}
