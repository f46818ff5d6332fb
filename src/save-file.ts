// Writing a result file (a profile, a stack dump, a torch trace) without losing it at the
// last step. Output paths are checked before a command starts, but a directory can still
// be removed, or a disk fill up, while a recording runs: the file then goes to a new
// private directory (mode 0700) under the temporary directory, else the home directory,
// and the command says where, then exits 1 since the file is not where it was asked.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { UserError } from './errors.js';

export interface SavedFile {
  /** where the file is */
  path: string;
  /** set when it could not be written where it was asked: that path, and why */
  notWritten?: { path: string; reason: string };
}

/** "ENOSPC: no space left on device", without the path node appends (said once, by the caller) */
function reasonOf(e: unknown): string {
  return String((e as Error)?.message ?? e).replace(/, \w+ '.*'$/, '');
}

/**
 * Runs write(path) for the path asked (unless it already failed with `failed`), then for a
 * path of the same name in a new private directory of each fallback place; the first that
 * succeeds is where the file is. Throws a UserError naming every failure when none does.
 */
export function saveWith(path: string, write: (path: string) => void, failed?: unknown): SavedFile {
  if (failed === undefined) {
    try {
      write(path);
      return { path };
    } catch (e) {
      failed = e;
    }
  }
  const reason = reasonOf(failed);
  const failures = [`${path}: ${reason}`];
  for (const dir of [tmpdir(), homedir()]) {
    try {
      const aside = join(mkdtempSync(join(dir, 'spyglass-')), basename(path));
      write(aside);
      return { path: aside, notWritten: { path, reason } };
    } catch (e) {
      failures.push(`${dir}: ${reasonOf(e)}`);
    }
  }
  throw new UserError(
    `cannot write ${path}, nor a copy elsewhere: ${failures.join('; ')}`,
    'free some disk space or choose another output file',
  );
}

/** Writes data to path, or to a fallback place when path cannot be written (see saveWith). */
export function saveFile(path: string, data: string | Uint8Array): SavedFile {
  return saveWith(path, (p) => writeFileSync(p, data));
}

/**
 * The error a command ends with after its file was saved elsewhere (exit 1): a script
 * must not take the file for written where it asked. Undefined when it was.
 */
export function savedElsewhere(saved: SavedFile, what: string): UserError | undefined {
  if (!saved.notWritten) return undefined;
  return new UserError(
    `could not write ${saved.notWritten.path}: ${saved.notWritten.reason}`,
    `the ${what} is saved in ${saved.path} instead`,
  );
}
