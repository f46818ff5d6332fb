// Shell history kept between runs in ~/.spyglass_history (oldest first, one line each,
// readable by the user only). Each entered line is appended at once, so shells running at
// the same time each add theirs (none rewrites the file over the others' lines) and a
// terminal closed under a shell loses nothing. The file is cut back to the newest
// HISTORY_MAX lines when it has grown to twice that.
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const HISTORY_MAX = 1000;

export function historyPath(): string {
  return process.env.SPYGLASS_HISTORY ?? join(homedir(), '.spyglass_history');
}

/** The saved lines, newest first (the order node:readline keeps), each line once. */
export function loadHistory(path = historyPath()): string[] {
  let lines: string[];
  try {
    lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
  if (lines.length > 2 * HISTORY_MAX) compact(lines.slice(-HISTORY_MAX), path);
  const seen = new Set<string>();
  const newestFirst: string[] = [];
  for (let i = lines.length - 1; i >= 0 && newestFirst.length < HISTORY_MAX; i--) {
    if (seen.has(lines[i])) continue;
    seen.add(lines[i]);
    newestFirst.push(lines[i]);
  }
  return newestFirst;
}

/** The saved lines as typed, oldest first (repeats included): what `history` lists. */
export function historyLines(path = historyPath()): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Empties the saved history (`history -c`); false when the file could not be written. */
export function clearHistory(path = historyPath()): boolean {
  try {
    writeFileSync(path, '', { mode: 0o600 });
    return true;
  } catch {
    return false;
  }
}

/** Adds one entered line; failure to write is not worth an error (a read-only home). */
export function appendHistory(line: string, path = historyPath()): void {
  if (!line.trim() || line.includes('\n')) return;
  try {
    appendFileSync(path, line + '\n', { mode: 0o600 });
  } catch {
    // history simply is not kept
  }
}

/** Replaces the file at once (written aside, renamed): a reader never sees half of it. */
function compact(oldestFirst: string[], path: string): void {
  const aside = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(aside, oldestFirst.join('\n') + '\n', { mode: 0o600 });
    renameSync(aside, path);
  } catch {
    // kept long, then: the next load tries again
  }
}
