// When the agent does not answer, the client says so and where the agent's threads are.
// The agent cannot tell us itself (its threads are not running: a C call holding the GIL,
// a deadlock), so their stacks are read from outside, as `spyglass dump` does.
import { basename } from 'node:path';
import type { UserError } from '../errors.js';
import { AgentNotAnsweringError } from '../channel/client.js';
import { openReader } from '../reader/reader.js';
import type { StackDump, ThreadStack } from '../reader/types.js';

/** the agent's threads are named spyglass-* (agent/spyglass_agent/connection.py, server.py);
 * the request threads do the work, the connection's reader takes every message */
const AGENT_THREAD_PREFERENCE = ['spyglass-req-', 'spyglass-conn-', 'spyglass-'];
const FRAMES_SHOWN = 3;

function where(t: ThreadStack): string {
  if (!t.frames.length) return '(no Python frames)';
  const shown = t.frames.slice(0, FRAMES_SHOWN).map((f) => `${f.name} (${basename(f.filename)}${f.line ? `:${f.line}` : ''})`);
  // a stack that kept changing while read (ThreadStack.torn) is said to be so
  return shown.join(' ← ') + (t.frames.length > FRAMES_SHOWN ? ' ← ...' : '') + (t.torn !== undefined ? ' (torn read)' : '');
}

function threadLabel(t: ThreadStack): string {
  return `${t.tid ?? `0x${t.threadId.toString(16)}`}${t.name !== undefined ? ` "${t.name}"` : ''}`;
}

/** The agent thread to show: a request's if one runs, else the connection's reader. */
export function agentThread(dump: StackDump): ThreadStack | undefined {
  for (const prefix of AGENT_THREAD_PREFERENCE) {
    const t = dump.threads.find((th) => th.name?.startsWith(prefix));
    if (t) return t;
  }
  return undefined;
}

/**
 * The error that ends a client whose agent in `pid` has sent nothing for `silentMs`:
 * "the agent in process PID has not answered for N s; its thread NAME is at f (file:line)
 * ← ...", with the thread holding the GIL (the usual reason) as the hint.
 */
export async function agentNotAnswering(pid: number, silentMs: number): Promise<UserError> {
  const head = `the agent in process ${pid} has not answered for ${(silentMs / 1000).toFixed(1)} s`;
  let dump: StackDump;
  try {
    const reader = await openReader(pid);
    try {
      dump = reader.sample();
    } finally {
      reader.close();
    }
  } catch (e) {
    return new AgentNotAnsweringError(
      `${head}; its threads could not be read from outside: ${(e as Error).message}`,
      `\`spyglass dump ${pid}\` shows every thread`,
    );
  }
  const agent = agentThread(dump);
  const holder = dump.threads.find((t) => t.holdsGil);
  const hint =
    (holder && holder !== agent ? `thread ${threadLabel(holder)} holds the GIL at ${where(holder)}; ` : '') +
    `\`spyglass dump ${pid}\` shows every thread`;
  if (!agent) return new AgentNotAnsweringError(`${head}; no spyglass thread was found in it`, hint);
  return new AgentNotAnsweringError(`${head}; its thread ${agent.name} is at ${where(agent)}`, hint);
}
