// The directory spyglass keeps things in between runs ($XDG_CACHE_HOME/spyglass, else
// ~/.cache/spyglass: the launcher's code cache, docs/bundle.md, the native index,
// docs/native-index.md, the binary facts, docs/binary-facts.md), and the one rule for
// trusting what is in it: it belongs to this user and no one else may enter a directory
// of it or write a file of it.
import { lstatSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/** $XDG_CACHE_HOME/spyglass (else ~/.cache/spyglass), or undefined without a usable home. */
export function cacheRoot(): string | undefined {
  const base = process.env.XDG_CACHE_HOME || (process.env.HOME && join(process.env.HOME, '.cache'));
  return base && isAbsolute(base) ? join(base, 'spyglass') : undefined;
}

/** Ours, and only we may enter (a directory) or write (a file). */
export function isPrivate(st: { uid: number; mode: number }, dir: boolean): boolean {
  return st.uid === process.getuid!() && (st.mode & (dir ? 0o077 : 0o022)) === 0;
}

/** A directory (not a link to one) that is ours and only we may enter; throws when absent. */
export function privateDir(path: string): boolean {
  const st = lstatSync(path);
  return st.isDirectory() && isPrivate(st, true);
}
