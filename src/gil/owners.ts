// `gilstat off` from another spyglass process (a second shell, a one-shot command) than
// the one running the sampler. The client running a sampler for a pid leaves a marker
// naming itself in its user's private run directory; `off` elsewhere removes the marker
// and wakes that client with SIGUSR2, and the client stops each of its samplers whose
// marker is gone. Markers of clients that died are stale and simply replaced.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentRunDir, ensurePrivateDir } from '../channel/socket-path.js';
import { isSpyglass, processExists } from '../proc/process.js';

export const OFF_SIGNAL = 'SIGUSR2';

function markerDir(): string {
  return join(agentRunDir(process.getuid!()), 'gilstat'); // not a pid: the stale-directory sweep leaves it
}

function markerPath(targetPid: number): string {
  return join(markerDir(), String(targetPid));
}

function ownerOf(targetPid: number): number | undefined {
  try {
    const owner = Number(readFileSync(markerPath(targetPid), 'utf8').trim());
    return Number.isInteger(owner) && owner > 0 ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** Marks this process as the one sampling `targetPid`. Best effort: without the marker
 * only `off` from elsewhere is lost. */
export function claim(targetPid: number): void {
  try {
    ensurePrivateDir(agentRunDir(process.getuid!()), process.getuid!());
    ensurePrivateDir(markerDir(), process.getuid!());
    writeFileSync(markerPath(targetPid), `${process.pid}\n`, { mode: 0o600 });
  } catch {
    // an unwritable /tmp: gilstat still runs
  }
}

/** Whether this process still holds the marker for `targetPid` (an `off` elsewhere removes it). */
export function stillClaimed(targetPid: number): boolean {
  return ownerOf(targetPid) === process.pid;
}

/** Removes this process's marker for `targetPid`, if it is still this process's. */
export function release(targetPid: number): void {
  if (stillClaimed(targetPid)) rmSync(markerPath(targetPid), { force: true });
}

/**
 * Asks the other spyglass process sampling `targetPid`, if there is one, to stop: returns
 * its pid, or undefined when no other live spyglass samples that process.
 */
export function stopElsewhere(targetPid: number): number | undefined {
  const owner = ownerOf(targetPid);
  if (owner === undefined || owner === process.pid) return undefined;
  rmSync(markerPath(targetPid), { force: true });
  if (!processExists(owner) || !isSpyglass(owner)) return undefined; // a stale marker, now gone
  try {
    process.kill(owner, OFF_SIGNAL);
    return owner;
  } catch {
    return undefined;
  }
}
