// The command model (docs/command-model.md): every shell command is parsed from words into
// a typed request, executed into a stream of typed results (each one exactly the JSON
// value `--json` prints), and drawn by a view. The shell, `--cmd`, `--json` and the web
// page (src/web/inside.ts) all run parse and execute; only the view differs: the text
// view below is the terminal's, `--json` prints each result as it is, the page draws
// the results itself.
import type { EventOf } from '../channel/session.js';
import type { Words } from './args.js';
import type { CommandContext, CommandOutput, ShellCommand } from './types.js';

/**
 * One thing an execution yields: a result (`kind` names its shape in the command's map of
 * results; `data` is the JSON value --json prints), or a progress note meant for people
 * (stderr in the terminal, a status line on the page, never part of --json).
 */
export type Step<Results> = { [K in keyof Results & string]: { kind: K; data: Results[K] } }[keyof Results & string];
export type Progress = { progress: string };
export type StepOf<Results> = Step<Results> | Progress;

/** Where a command does its work: in the agent inside the target, or in spyglass, from outside (nothing injected). */
export type RunsIn = 'agent' | 'outside';

/** What execute may use: no output (results are yielded), no terminal. */
export interface ExecuteContext {
  pid: number;
  agent: CommandContext['agent'];
  /** aborted on Ctrl-C, --timeout, or when the page that started the command goes */
  signal: AbortSignal;
  /** files the command writes go here */
  cwd: string;
  /** a person watches a terminal: a live status line on stderr is welcome (perf) */
  terminal: boolean;
}

/** What parse may use beyond the words: the attached process (a default pid) and where relative paths start. */
export interface ParseContext {
  pid: number;
  cwd: string;
}

export interface CommandModel<Request, Results> extends Omit<ShellCommand, 'run' | 'complete'> {
  runsIn: RunsIn;
  /** words after the command name → the typed request; throws UsageError on bad grammar */
  parse(words: Words, at: ParseContext): Request;
  /** the request → its results as they come; stopping (signal, or leaving the iteration) undoes what it installed */
  execute(ctx: ExecuteContext, request: Request): AsyncIterable<StepOf<Results>>;
  /** the terminal's view of one run: a function drawing each result as it comes (lines on stdout, notes on stderr) */
  textView(request: Request, out: CommandOutput): (step: Step<Results>) => void;
  complete?: ShellCommand['complete'];
}

/** Any command model, whatever its request and results (for lists: the registry, the web server). */
// biome-ignore lint/suspicious/noExplicitAny: a list of models of different types
export type AnyCommandModel = CommandModel<any, any>;

export function isProgress<R>(step: StepOf<R>): step is Progress {
  return 'progress' in step;
}

/** The shell's ShellCommand for a model: parse, execute, and each result to --json and the text view. */
export function shellCommand<Req, Res>(model: CommandModel<Req, Res>): ShellCommand {
  const { runsIn: _where, parse: _parse, execute: _execute, textView: _view, ...help } = model;
  return {
    ...help,
    async run(ctx, words) {
      const request = model.parse(words, ctx);
      const view = model.textView(request, ctx.out);
      const steps = model.execute(executeContext(ctx), request);
      for await (const step of steps) {
        if (isProgress(step)) ctx.out.note(step.progress);
        else {
          ctx.out.record(step.data);
          view(step);
        }
      }
    },
  };
}

export function executeContext(ctx: CommandContext): ExecuteContext {
  return { pid: ctx.pid, agent: ctx.agent, signal: ctx.signal, cwd: ctx.cwd, terminal: !ctx.out.json };
}

/**
 * The events of one agent request as they come, then its end data as a last `end` event.
 * Ctrl-C, --timeout, a page leaving (the signal), or the consumer leaving the iteration
 * cancel the request: the agent then removes its hook.
 */
export async function* agentEvents<Events, End = Record<string, unknown>>(
  ctx: ExecuteContext,
  cmd: string,
  args: Record<string, unknown>,
): AsyncGenerator<EventOf<Events> | { event: 'end'; data: End }> {
  const stream = ctx.agent.request(cmd, args);
  const stop = () => stream.cancel();
  if (ctx.signal.aborted) stop();
  ctx.signal.addEventListener('abort', stop, { once: true });
  let finished = false;
  try {
    for await (const ev of stream) yield ev as EventOf<Events>;
    finished = true;
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    if (!finished) stop();
  }
  yield { event: 'end', data: (stream.endData ?? {}) as End };
}
