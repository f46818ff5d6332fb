// A target killed with its agent loaded (kill -9, a crash, SIGTERM without a handler)
// cannot remove its per-pid directory; the agent does so itself on a normal exit. Left
// alone those pile up in /tmp/spyglass-<uid>, and a later process that gets the same pid
// would find an old log. Every fresh attach sweeps them: a directory named after a pid
// that no longer exists belongs to nobody.
import { lstatSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processExists } from '../proc/process.js';
import { agentRunDir } from '../rundir.js';

/** Leaves a directory this young alone: its process may have been started a moment ago. */
const MIN_AGE_MS = 2000;

/** Removes the per-pid directories of dead processes; returns the pids swept. Never throws. */
export function sweepStaleAgentDirs(uid: number, base = agentRunDir(uid), now = Date.now()): number[] {
  let names: string[];
  try {
    const st = lstatSync(base);
    if (!st.isDirectory() || st.uid !== uid) return []; // not ours: the agent refuses it anyway
    names = readdirSync(base);
  } catch {
    return [];
  }
  const swept: number[] = [];
  for (const name of names) {
    if (!/^[1-9]\d*$/.test(name) || processExists(Number(name))) continue;
    const dir = join(base, name);
    const tomb = join(base, `.swept-${name}-${process.pid}`);
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory() || st.uid !== uid || now - st.mtimeMs < MIN_AGE_MS) continue;
      // Move it aside first, then look again: a process that got this pid between the
      // first look and the move cannot have bound its socket yet (starting Python and
      // being attached take far longer), so it gets its directory back untouched.
      renameSync(dir, tomb);
      if (processExists(Number(name))) {
        try {
          renameSync(tomb, dir);
        } catch {
          rmSync(tomb, { recursive: true, force: true }); // its agent made a fresh one already
        }
        continue;
      }
      rmSync(tomb, { recursive: true, force: true }); // removes links inside, never follows them
      swept.push(Number(name));
    } catch {
      // raced with another sweep, or not ours to remove: leave it
    }
  }
  return swept;
}
