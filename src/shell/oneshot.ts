// One-shot mode, `spyglass PID --cmd "COMMAND"`: one command, then exit. A streaming
// command ends at its own -n limit, at --timeout, on Ctrl-C, or when the target goes.
import type { AgentSession } from '../channel/session.js';
import type { CommandOutput } from '../commands/types.js';
import { AgentGoneError } from '../channel/client.js';
import { connectionLost, runLine } from './dispatch.js';

export interface OneShotOptions {
  pid: number;
  agent: AgentSession;
  out: CommandOutput;
  line: string;
  /** abort the command after this long (the command ends cleanly, exit 0) */
  timeoutMs?: number;
  /** resolves when the connection to the agent is lost */
  lost?: Promise<string>;
}

export async function runOneShot(opts: OneShotOptions): Promise<void> {
  const ac = new AbortController();
  let lostReason: string | undefined;
  const timer = opts.timeoutMs ? setTimeout(() => ac.abort(), opts.timeoutMs) : undefined;
  const onSigint = () => ac.abort();
  process.on('SIGINT', onSigint);
  opts.lost?.then((why) => {
    lostReason = why;
    ac.abort();
  });
  try {
    await runLine({ pid: opts.pid, agent: opts.agent, out: opts.out, signal: ac.signal, cwd: process.cwd() }, opts.line);
  } catch (e) {
    if (lostReason || e instanceof AgentGoneError) throw await connectionLost(opts.pid, lostReason ?? (e as Error).message);
    throw e;
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSigint);
  }
  if (lostReason) throw await connectionLost(opts.pid, lostReason);
}
