// The script file PEP 768 asks the target to run (3.14): written into the target user's
// private run directory (0700, owned by that user, as the agent requires), readable by
// the target only; the script deletes itself first thing.
import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentPidDir } from '../channel/socket-path.js';
import { agentRunDir, ensurePrivateDir } from '../rundir.js';
import { wrapPayload } from './inject.js';

/** Writes the bootstrap script for `pid` and returns its absolute path. */
export function writeScriptFile(pid: number, uid: number, source: string, expiresAt = Date.now() + 5000): string {
  ensurePrivateDir(agentRunDir(uid), uid);
  ensurePrivateDir(agentPidDir(uid, pid), uid);
  const path = join(agentPidDir(uid, pid), 'bootstrap.py');
  const text =
    `try:\n    __import__('os').unlink(${JSON.stringify(path)})\nexcept BaseException:\n    pass\n` + wrapPayload(source, expiresAt);
  writeFileSync(path, text, { mode: 0o600 });
  if (process.getuid?.() === 0) chownSync(path, uid, -1);
  return path;
}
