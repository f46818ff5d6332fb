// One-shot mode, `spyglass PID --cmd "COMMAND"`: one command, then exit. A streaming
// command ends at its own -n limit, at --timeout, on Ctrl-C, when stdout's reader goes
// away (`| head -3`), or when the target goes.
import type { AgentSession } from '../channel/session.js';
import type { CommandOutput } from '../commands/types.js';
import { AgentGoneError } from '../channel/client.js';
import { stopSignal } from '../run-end.js';
import { boundedAfterStop, type Silence } from './bounded.js';
import { connectionLost, runLine } from './dispatch.js';
import { appendHistory } from './history.js';

export interface OneShotOptions {
  pid: number;
  agent: AgentSession;
  out: CommandOutput;
  line: string;
  /** abort the command after this long (the command ends cleanly, exit 0) */
  timeoutMs?: number;
  /** resolves when the connection to the agent is lost */
  lost?: Promise<string>;
  /** how long the agent has been silent: a stopped command whose agent stays silent ends anyway */
  unansweredMs?: Silence['unansweredMs'];
}

export async function runOneShot(opts: OneShotOptions): Promise<void> {
  const ac = new AbortController();
  let lostReason: string | undefined;
  const timer = opts.timeoutMs ? setTimeout(() => ac.abort(), opts.timeoutMs) : undefined;
  // Ctrl-C (exit 130) and stdout's reader leaving (exit 0) stop the command the same way
  const stop = stopSignal();
  stop.signal.addEventListener('abort', () => ac.abort(), { once: true });
  opts.lost?.then((why) => {
    lostReason = why;
    ac.abort();
  });
  // the command joins the shell's history, as the reference tool keeps one-shot commands:
  // `--cmd "history -n 1"` shows itself
  appendHistory(opts.line);
  try {
    const running = runLine({ pid: opts.pid, agent: opts.agent, out: opts.out, signal: ac.signal, cwd: process.cwd() }, opts.line);
    await (opts.unansweredMs ? boundedAfterStop(running, ac.signal, { pid: opts.pid, unansweredMs: opts.unansweredMs }) : running);
  } catch (e) {
    if (lostReason || e instanceof AgentGoneError) throw await connectionLost(opts.pid, lostReason ?? (e as Error).message);
    throw e;
  } finally {
    clearTimeout(timer);
    stop.dispose();
  }
  if (lostReason) throw await connectionLost(opts.pid, lostReason);
}
