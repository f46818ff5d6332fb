// Where the agent of a target listens. A pure function of the target's uid and pid, so
// the client (whoever runs it: the same user, or root) and the agent agree without
// talking; the agent refuses directories that are not its own (agent/spyglass_agent/rundir.py).
import { join } from 'node:path';
import { agentRunDir } from '../rundir.js';

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
