// Where the agent of a target listens. A pure function of the target's uid and pid, so
// the client (whoever runs it: the same user, or root) and the agent agree without
// talking; the agent refuses directories that are not its own (agent/spyglass_agent/rundir.py).
import { chownSync, lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';

/** The per-user base directory: /tmp/spyglass-<uid> (0700, owned by that uid). */
export function agentRunDir(uid: number): string {
  return `/tmp/spyglass-${uid}`;
}

/** The per-process directory holding agent.sock, agent.log and bootstrap.err. */
export function agentPidDir(uid: number, pid: number): string {
  return join(agentRunDir(uid), String(pid));
}

export function agentSocketPath(uid: number, pid: number): string {
  return join(agentPidDir(uid, pid), 'agent.sock');
}

/** Written by the bootstrap (traceback) when the agent could not start. */
export function bootstrapErrorPath(uid: number, pid: number): string {
  return join(agentPidDir(uid, pid), 'bootstrap.err');
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
