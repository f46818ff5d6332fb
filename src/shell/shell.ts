// The interactive shell of `spyglass PID`: a prompt on node:readline, Tab completion,
// history kept between runs, Ctrl-C stopping the running command (not the shell), and
// quit/exit/Ctrl-D, or stdout's reader going away, leaving (the caller then detaches).
import { createInterface, type Interface } from 'node:readline';
import { UserError, formatUserError } from '../errors.js';
import { stdoutClosed } from '../run-end.js';
import { AgentGoneError, AgentNotAnsweringError } from '../channel/client.js';
import type { AgentSession } from '../channel/session.js';
import type { CommandContext, CommandOutput } from '../commands/types.js';
import { boundedAfterStop, type Silence } from './bounded.js';
import { complete } from './complete.js';
import { allCommands, connectionLost, runLine } from './dispatch.js';
import { HISTORY_MAX, appendHistory, loadHistory } from './history.js';

export interface ShellOptions {
  pid: number;
  agent: AgentSession;
  out: CommandOutput;
  debug?: boolean;
  /** resolves when the connection to the agent is lost (the target exited): the shell ends */
  lost?: Promise<string>;
  /** how long the agent has been silent: a stopped command whose agent stays silent ends the shell */
  unansweredMs?: Silence['unansweredMs'];
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /**
   * the shell owns this process's terminal (default): a SIGINT sent to spyglass is its
   * Ctrl-C, and stdout's reader leaving ends it. A shell in a browser (src/web/terminal.ts)
   * does not: its Ctrl-C comes as a keystroke on its input, and the server's own Ctrl-C or
   * stdout must never reach into the commands a browser typed.
   */
  ownsProcess?: boolean;
}

export async function runShell(opts: ShellOptions): Promise<void> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  /** on a terminal Ctrl-D means "leave"; from a pipe, end of input only means no more lines */
  const terminal = (output as { isTTY?: boolean }).isTTY === true;
  // stdout holds only results: prompts go there on a terminal, to stderr when someone types
  // with stdout redirected, and nowhere for a script piped in
  const promptTo = terminal ? output : (input as { isTTY?: boolean }).isTTY ? process.stderr : undefined;
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
  /** receives the next line typed, while a question is being asked */
  let answer: ((line: string) => void) | undefined;
  /** lines that came while no question was asked (typed ahead, or piped in): the next questions get them */
  const typedAhead: string[] = [];
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
    interactive: { question, onInterrupt, clearHistory: forgetHistory },
  });

  const completer = (line: string, cb: (err: null, result: [string[], string]) => void): void => {
    const found: Promise<[string[], string]> = questionComplete
      ? questionComplete(line).then((c) => [c, line])
      : complete(line, allCommands(), baseCtx());
    found.then(
      (r) => cb(null, r),
      () => cb(null, [[], line]),
    );
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
      promptTo?.write('^C\n');
      rl.prompt();
    }
  };

  const openReadline = (): Interface => {
    const r = createInterface({
      input,
      output: promptTo,
      completer,
      terminal,
      history,
      historySize: HISTORY_MAX,
      removeHistoryDuplicates: true,
    });
    r.on('history', (h: string[]) => {
      history = h;
    });
    r.on('SIGINT', onSigint);
    r.on('line', (line: string) => {
      if (answer) answer(line);
      else typedAhead.push(line);
    });
    r.on('close', () => {
      inputEnded = true;
      eofForCommand = running !== undefined && endQuestion !== undefined;
      endQuestion?.();
      // piped input: the lines already read still run, each to its own end
      if (terminal) running?.abort();
    });
    return r;
  };

  function question(text: string, qopts?: { complete?: (line: string) => Promise<string[]> }): Promise<string | undefined> {
    if (typedAhead.length) return Promise.resolve(typedAhead.shift());
    if (inputEnded || !rl) return Promise.resolve(undefined);
    const r = rl;
    return new Promise((resolve) => {
      questionComplete = qopts?.complete;
      // a line typed, or undefined: Ctrl-D, or the command asking was stopped
      const done = (line: string | undefined) => {
        questionComplete = undefined;
        endQuestion = undefined;
        answer = undefined;
        resolve(line);
      };
      endQuestion = () => done(undefined);
      answer = done;
      r.setPrompt(text);
      r.prompt();
    });
  }

  function forgetHistory(): void {
    history = [];
    // readline keeps its own list: emptied in place, the arrow keys recall nothing older
    (rl as unknown as { history?: string[] } | undefined)?.history?.splice(0);
  }

  function onInterrupt(handler: () => void): () => void {
    interruptHandler = handler;
    return () => {
      if (interruptHandler === handler) interruptHandler = undefined;
    };
  }

  const ownsProcess = opts.ownsProcess ?? true;
  // without a terminal readline does not see Ctrl-C: the signal arrives instead
  if (ownsProcess) process.on('SIGINT', onSigint);
  opts.lost?.then((why) => {
    lostReason = why;
    running?.abort();
    rl?.close();
  });
  // stdout's reader went away (`spyglass PID | head`): the running command stops, the shell leaves
  const onOutputClosed = (): void => {
    running?.abort();
    endQuestion?.();
    rl?.close();
  };
  if (ownsProcess) stdoutClosed().addEventListener('abort', onOutputClosed, { once: true });
  rl = openReadline();
  try {
    for (;;) {
      if (lostReason || (ownsProcess && stdoutClosed().aborted)) break;
      const line = await question(prompt);
      if (line === undefined) {
        if (inputEnded) break;
        continue;
      }
      if (terminal) appendHistory(line); // typed lines only, not a script piped in
      running = new AbortController();
      try {
        const run = runLine({ ...baseCtx(), signal: running.signal }, line);
        const outcome = await (opts.unansweredMs
          ? boundedAfterStop(run, running.signal, { pid: opts.pid, unansweredMs: opts.unansweredMs })
          : run);
        if (outcome === 'quit') break;
      } catch (e) {
        // an agent that does not answer would not answer the next command either
        if (e instanceof AgentNotAnsweringError) throw e;
        if (e instanceof AgentGoneError || lostReason) {
          // said once, as the shell's own end, below
          lostReason ??= (e as Error).message;
        } else if (e instanceof UserError) {
          opts.out.note(formatUserError(e));
        } else if (!running.signal.aborted) {
          const err = e as Error;
          opts.out.note(`spyglass: internal error: ${err?.message ?? String(e)}` + (opts.debug && err?.stack ? '\n' + err.stack : ''));
        }
      } finally {
        running = undefined;
        interruptHandler = undefined;
      }
      if (lostReason || (ownsProcess && stdoutClosed().aborted)) break;
      if (inputEnded && terminal) {
        // Ctrl-D answered a command's own question: the shell keeps going with a fresh
        // reader; Ctrl-D while a command streams stopped it and leaves, as at the prompt
        if (!eofForCommand || (input as { readableEnded?: boolean }).readableEnded) break;
        inputEnded = false;
        rl = openReadline();
      }
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    stdoutClosed().removeEventListener('abort', onOutputClosed);
    rl.close();
  }
  if (lostReason) throw await connectionLost(opts.pid, lostReason);
}
