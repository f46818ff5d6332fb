// Ctrl-C and --timeout must end a command on time whatever the agent does. Once a command
// is stopped it has STOP_GRACE_MS to end; an agent that sent nothing in that time (not
// even the end of the cancelled request) is not answering, and the command ends with the
// error that says where the agent's threads are (src/attach/unanswered.ts).
import { agentNotAnswering } from '../attach/unanswered.js';

export const STOP_GRACE_MS = 2000;

/** What the bound needs to know about the session. */
export interface Silence {
  pid: number;
  /** how long the agent has sent nothing since a message of ours (0: all answered) */
  unansweredMs(): number;
}

/** `running`, unless it is still running STOP_GRACE_MS after `signal` aborted while the
 * agent stays silent: then an AgentNotAnsweringError. */
export async function boundedAfterStop<T>(running: Promise<T>, signal: AbortSignal, silence: Silence): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  const stuck = new Promise<never>((_, reject) => {
    const check = (): void => {
      if (settled) return;
      const silent = silence.unansweredMs();
      // still talking (events of a command slow to stop), or nothing asked of it: wait on
      if (silent < STOP_GRACE_MS) timer = setTimeout(check, STOP_GRACE_MS - silent);
      else agentNotAnswering(silence.pid, silent).then(reject, reject);
    };
    // an abort after the command ended (the one-shot's connection closing at detach) must
    // start no timer: nothing would clear it, and it kept the process alive 2 s at exit
    const onAbort = (): void => {
      if (!settled) timer = setTimeout(check, STOP_GRACE_MS);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  stuck.catch(() => undefined); // once the command ended, a late verdict is nobody's
  try {
    return await Promise.race([running, stuck]);
  } finally {
    settled = true;
    clearTimeout(timer);
  }
}
