// Checks on test/targets/shell_app.py shared by the shell and one-shot tests.
import assert from 'node:assert/strict';
import { runCli } from './cli.js';
import type { Target } from './targets.js';

/** The lines printed so far, a line still being written left out. */
function completeLines(target: Target): string[] {
  const out = target.stdout();
  return out.slice(0, out.lastIndexOf('\n')).split('\n');
}

const handledLines = (target: Target) => completeLines(target).filter((l) => l.startsWith('HANDLED'));

/**
 * After spyglass has come and gone: the target's functions are their original code again
 * (asked through a fresh one-shot attach), it still runs, every result it printed is
 * the one an untouched run prints, and it printed nothing else.
 */
export async function assertShellAppUntouched(target: Target): Promise<void> {
  const r = await runCli([String(target.pid), '--json', '--cmd', "getglobal __main__ codes_restored -e 'target()'"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { value: { repr: string } }).value.repr, 'True');
  await target.waitFor(new RegExp(`^HANDLED ${25 * handledLines(target).length} `), 20000);
  for (const l of handledLines(target)) assert.match(l, /^HANDLED (\d+) hello n\1$/);
  const other = completeLines(target).filter((l) => l !== 'READY' && !l.startsWith('HANDLED'));
  assert.deepEqual(other, []);
  assert.equal(target.stderr(), '');
}
