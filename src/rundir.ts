// spyglass's private run directory, /tmp/spyglass-<uid>: the agents' sockets (channel/)
// and gilstat's owner markers (gil/) live under it. A pure function of the uid, so every
// spyglass of a user (and root acting for it) finds the same place; directories that are
// not that user's own are refused, as the agent does (agent/spyglass_agent/rundir.py).
import { chownSync, lstatSync, mkdirSync } from 'node:fs';
import { UserError } from './errors.js';

/** The per-user base directory: /tmp/spyglass-<uid> (0700, owned by that uid). */
export function agentRunDir(uid: number): string {
  return `/tmp/spyglass-${uid}`;
}

/** Creates `path` (0700) for `uid` if needed; refuses one that is not a directory of that
 * uid (a symlink or someone else's, planted in /tmp). As root, takes it over for `uid`. */
export function ensurePrivateDir(path: string, uid: number): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const st = lstatSync(path);
  if (!st.isDirectory() || st.uid !== uid) {
    if (st.isDirectory() && process.getuid?.() === 0) chownSync(path, uid, -1);
    else throw new UserError(`${path} is not a directory owned by uid ${uid}; refusing to use it`, 'remove it, or check who created it');
  }
}
