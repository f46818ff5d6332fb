// The interactive shell of `spyglass PID`: a prompt on node:readline, Tab completion,
// history kept between runs, Ctrl-C stopping the running command (not the shell), and
// quit/exit/Ctrl-D leaving (the caller then detaches).
import { createInterface, type Interface } from 'node:readline';
import { UserError, formatUserError } from '../errors.js';
import type { AgentSession, CommandContext, CommandOutput } from '../commands/types.js';
import { complete } from './complete.js';
import { allCommands, runLine } from './dispatch.js';
import { HISTORY_MAX, loadHistory, saveHistory } from './history.js';

export interface ShellOptions {
  pid: number;
  agent: AgentSession;
  out: CommandOutput;
  debug?: boolean;
  /** resolves when the connection to the agent is lost (the target exited): the shell ends */
  lost?: Promise<string>;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

export async function runShell(opts: ShellOptions): Promise<void> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const prompt = `spyglass ${opts.pid}> `;
  let history = loadHistory();
  let rl: Interface | undefined;
  /** the command running now: Ctrl-C aborts it */
  let running: AbortController | undefined;
  /** set by an interactive command (console) to take Ctrl-C itself */
  let interruptHandler: (() => void) | undefined;
  /** Tab completion for the question an interactive command is asking */
  let questionComplete: ((line: string) => Promise<string[]>) | undefined;
  /** answers the question being asked with undefined when input ends (Ctrl-D) */
  let endQuestion: (() => void) | undefined;
  let inputEnded = false;
  /** Ctrl-D came as the answer to a running command's question (console): leave only that command */
  let eofForCommand = false;
  let lostReason: string | undefined;

  const baseCtx = (): CommandContext => ({
    pid: opts.pid,
    agent: opts.agent,
    out: opts.out,
    signal: (running ?? new AbortController()).signal,
    cwd: process.cwd(),
    interactive: { question, onInterrupt },
  });

  const completer = (line: string, cb: (err: null, result: [string[], string]) => void): void => {
    const found: Promise<[string[], string]> = questionComplete
      ? questionComplete(line).then((c) => [c, line])
      : complete(line, allCommands(), baseCtx());
    found.then((r) => cb(null, r), () => cb(null, [[], line]));
  };

  const onSigint = (): void => {
    if (interruptHandler) interruptHandler();
    else if (running) {
      running.abort();
      endQuestion?.();
    } else if (rl) {
      // like a login shell: drop the half-typed line, show a new prompt
      rl.write(null, { ctrl: true, name: 'e' });
      rl.write(null, { ctrl: true, name: 'u' });
      output.write('^C\n');
      rl.prompt();
    }
  };

  const openReadline = (): Interface => {
    const r = createInterface({
      input,
      output,
      completer,
      terminal: (output as { isTTY?: boolean }).isTTY === true,
      history,
      historySize: HISTORY_MAX,
      removeHistoryDuplicates: true,
    });
    r.on('history', (h: string[]) => {
      history = h;
    });
    r.on('SIGINT', onSigint);
    r.on('close', () => {
      inputEnded = true;
      eofForCommand = running !== undefined && endQuestion !== undefined;
      endQuestion?.();
      running?.abort();
    });
    return r;
  };

  function question(text: string, qopts?: { complete?: (line: string) => Promise<string[]> }): Promise<string | undefined> {
    if (inputEnded || !rl) return Promise.resolve(undefined);
    const r = rl;
    const cancel = new AbortController();
    return new Promise((resolve) => {
      questionComplete = qopts?.complete;
      const done = (answer: string | undefined) => {
        questionComplete = undefined;
        endQuestion = undefined;
        resolve(answer);
      };
      // Ctrl-D, or the command asking was stopped: no answer
      endQuestion = () => {
        cancel.abort();
        done(undefined);
      };
      r.question(text, { signal: cancel.signal }, (answer) => done(answer));
    });
  }

  function onInterrupt(handler: () => void): () => void {
    interruptHandler = handler;
    return () => {
      if (interruptHandler === handler) interruptHandler = undefined;
    };
  }

  // without a terminal readline does not see Ctrl-C: the signal arrives instead
  process.on('SIGINT', onSigint);
  opts.lost?.then((why) => {
    lostReason = why;
    running?.abort();
    rl?.close();
  });
  rl = openReadline();
  try {
    for (;;) {
      if (lostReason) break;
      if (inputEnded) break;
      const line = await question(prompt);
      if (line === undefined) {
        if (inputEnded) break;
        continue;
      }
      // saved at once: a terminal closed under the shell must not lose what was typed
      saveHistory(history);
      running = new AbortController();
      try {
        const outcome = await runLine({ ...baseCtx(), signal: running.signal }, line);
        if (outcome === 'quit') break;
      } catch (e) {
        if (e instanceof UserError) {
          opts.out.note(formatUserError(e));
        } else if (!running.signal.aborted || lostReason) {
          const err = e as Error;
          opts.out.note(`spyglass: internal error: ${err?.message ?? String(e)}` + (opts.debug && err?.stack ? '\n' + err.stack : ''));
        }
      } finally {
        running = undefined;
        interruptHandler = undefined;
      }
      if (lostReason) break;
      if (inputEnded) {
        // Ctrl-D answered a command's own question: the shell keeps going with a fresh
        // reader; Ctrl-D while a command streams stopped it and leaves, as at the prompt
        if (!eofForCommand || (input as { readableEnded?: boolean }).readableEnded) break;
        inputEnded = false;
        rl = openReadline();
      }
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    saveHistory(history);
    rl.close();
  }
  if (lostReason) opts.out.note(`spyglass: ${lostReason}`);
}
