// Shell history kept between runs in ~/.spyglass_history (oldest first, one line each,
// at most HISTORY_MAX lines, readable by the user only).
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const HISTORY_MAX = 1000;

export function historyPath(): string {
  return process.env.SPYGLASS_HISTORY ?? join(homedir(), '.spyglass_history');
}

/** The saved lines, newest first (the order node:readline keeps). */
export function loadHistory(path = historyPath()): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).slice(-HISTORY_MAX).reverse();
  } catch {
    return [];
  }
}

/** Saves readline's history (newest first); failure to write is not worth an error. */
export function saveHistory(newestFirst: string[], path = historyPath()): void {
  try {
    const lines = newestFirst.slice(0, HISTORY_MAX).reverse();
    writeFileSync(path, lines.join('\n') + (lines.length ? '\n' : ''), { mode: 0o600 });
  } catch {
    // read-only home: history simply is not kept
  }
}
