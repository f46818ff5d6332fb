// `gilstat off` from another spyglass process (a second shell, a one-shot command) than
// the one running the sampler. The client running a sampler for a pid leaves a marker
// naming itself (pid and start time) in its user's private run directory; `off`
// elsewhere removes the marker and wakes that client with SIGUSR2, and the client stops
// each of its samplers whose marker is gone. The signal goes only to the very process
// the marker names (a marker left by a client that died may name a pid that another
// spyglass has since), and a client keeps its handler once it has run a sampler, so a
// signal that comes late does nothing.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentRunDir, ensurePrivateDir } from '../rundir.js';
import { isSpyglass, startTime } from '../proc/process.js';

export const OFF_SIGNAL = 'SIGUSR2';

function markerDir(): string {
  return join(agentRunDir(process.getuid!()), 'gilstat'); // not a pid: the stale-directory sweep leaves it
}

function markerPath(targetPid: number): string {
  return join(markerDir(), String(targetPid));
}

/** The process the marker names: its pid and start time. */
function ownerOf(targetPid: number): { pid: number; start: string } | undefined {
  try {
    const [pid, start] = readFileSync(markerPath(targetPid), 'utf8').trim().split(' ');
    return /^[1-9]\d*$/.test(pid) && start ? { pid: Number(pid), start } : undefined;
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
    writeFileSync(markerPath(targetPid), `${process.pid} ${startTime(process.pid)}\n`, { mode: 0o600 });
  } catch {
    // an unwritable /tmp: gilstat still runs
  }
}

/** Whether this process still holds the marker for `targetPid` (an `off` elsewhere removes it). */
export function stillClaimed(targetPid: number): boolean {
  return ownerOf(targetPid)?.pid === process.pid;
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
  if (owner === undefined || owner.pid === process.pid) return undefined;
  rmSync(markerPath(targetPid), { force: true });
  // a stale marker (its process gone, or the pid now another's) is simply removed
  if (startTime(owner.pid) !== owner.start || !isSpyglass(owner.pid)) return undefined;
  try {
    process.kill(owner.pid, OFF_SIGNAL);
    return owner.pid;
  } catch {
    return undefined;
  }
}
