// `console`: an interactive Python console running inside the target. Lines typed here are
// sent to the agent as input of one streaming request; the agent answers with `output`
// and `prompt` events. Ctrl-C interrupts the running statement (or clears a half-typed
// one), Ctrl-D or exit() leaves the console; the target keeps running in every case.
// input() and help() typed there read their lines from this console too.
import { createInterface } from 'node:readline';
import { parseArgs } from './args.js';
import type { AgentStream } from '../channel/session.js';
import type { CommandContext, ShellCommand } from './types.js';

/** What the client sends as input of the console request. */
export type ConsoleInput = { line: string } | { interrupt: true } | { eof: true };

interface OutputEvent {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** Turns output chunks into whole lines for CommandOutput.line (a chunk may end mid-line). */
export class LineAssembler {
  private partial = '';
  constructor(private readonly emit: (line: string) => void) {}
  push(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) this.emit(p);
  }
  flush(): void {
    if (this.partial) this.emit(this.partial);
    this.partial = '';
  }
  /** the unfinished last line, taken out (input()'s prompt goes before what the user types) */
  takePartial(): string {
    const text = this.partial;
    this.partial = '';
    return text;
  }
}

async function runConsole(ctx: CommandContext, io: NonNullable<CommandContext['interactive']>): Promise<void> {
  const stream: AgentStream = ctx.agent.request('console', {});
  if (!stream.send) throw new Error('the agent session cannot send input to a running request');
  const send = (input: ConsoleInput) => stream.send!(input);
  let session: string | undefined;
  const red = (s: string) => (ctx.out.color ? `\x1b[31m${s}\x1b[0m` : s);
  const out = new LineAssembler((l) => ctx.out.line(l));
  const err = new LineAssembler((l) => ctx.out.line(red(l)));
  const complete = async (line: string): Promise<string[]> => {
    if (!session) return [];
    const word = /[\w.]*$/.exec(line)?.[0] ?? '';
    const r = (await ctx.agent.call('console_complete', { session, text: word })) as { matches?: string[] };
    return (r.matches ?? []).map((m) => line.slice(0, line.length - word.length) + m);
  };
  // Ctrl-C: the shell hands it to us (stay in the console); without that hook the abort
  // signal fires once, so it interrupts the statement and then leaves the console
  const interrupt = () => send({ interrupt: true });
  const removeHandler = io.onInterrupt?.(interrupt);
  const onAbort = () => {
    send({ interrupt: true });
    send({ eof: true });
  };
  if (!removeHandler) ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const ev of stream) {
      if (ev.event === 'started') {
        session = (ev.data as { session: string }).session;
      } else if (ev.event === 'output') {
        const o = ev.data as OutputEvent;
        (o.stream === 'stderr' ? err : out).push(o.text);
      } else if (ev.event === 'prompt') {
        // the console's prompt, or an empty one when code typed there reads a line (input()):
        // what it printed without a newline is that prompt's text
        err.flush();
        const line = await io.question(out.takePartial() + (ev.data as { prompt: string }).prompt, { complete });
        send(line === undefined ? { eof: true } : { line });
      }
    }
  } finally {
    removeHandler?.();
    ctx.signal.removeEventListener('abort', onAbort);
    out.flush();
    err.flush();
  }
  const end = stream.endData as { reason?: string } | undefined;
  ctx.out.note(`left the console${end?.reason ? ` (${end.reason})` : ''}; process ${ctx.pid} keeps running`);
}

/**
 * One-shot mode (`spyglass PID --cmd console`): the lines come from stdin, each run as if
 * typed, until its end (`echo 'print(len(jobs))' | spyglass PID --cmd console`); no
 * prompt is shown.
 */
function stdinLines(): NonNullable<CommandContext['interactive']> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  return {
    async question() {
      const next = await lines.next();
      if (next.done) rl.close();
      return next.done ? undefined : next.value;
    },
  };
}

export const consoleCommand: ShellCommand = {
  name: 'console',
  summary: 'Open an interactive Python console inside the target (Ctrl-D or exit() leaves it; the target keeps running).',
  usage: 'console',
  examples: [{ command: 'console', comment: 'then e.g. `import sys; sys.modules["app"].config` or `threading.enumerate()`' }],
  options: [],
  async run(ctx, words) {
    parseArgs('console', words, []);
    await runConsole(ctx, ctx.interactive ?? stdinLines());
  },
};
