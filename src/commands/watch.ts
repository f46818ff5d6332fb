// `watch module [class] method [--expr <value>] [-nm <value>] [-e] [-r] [-v] [-n <value>]
// [-x <value>] [-f <value>]`: each call's cost and the values of --expr, as the reference
// tool's watch. The agent filters and evaluates on the calling thread and renders on its
// own; this module only prints (agent/spyglass_agent/commands/watch.py has the semantics).
import { parseArgs, type OptionSpec } from './args.js';
import { agentEvents, type CommandModel, shellCommand } from './model.js';
import {
  LOCATION_OPTIONS,
  NESTED_OPTION,
  type ObserveEnd,
  type ObserveStarted,
  clockTime,
  endNote,
  limitOption,
  methodArgs,
  ms,
} from './observe-stream.js';
import type { CommandOutput } from './types.js';
import { RENDER_OPTIONS, formatValue, renderArgs } from './value-text.js';
import type { RenderedNode } from '../channel/protocol.js';

const OPTIONS: OptionSpec[] = [
  {
    names: ['--expr'],
    key: 'expr',
    kind: 'string',
    default: 'args,kwargs',
    metavar: '<value>',
    expression: true,
    description:
      'what to show: expression(s) of target, return_obj, cost, args (positional parameters as bound), kwargs (keyword-only and **kwargs); `a,b` or `{a,b}` shows each item (default args,kwargs)',
  },
  ...LOCATION_OPTIONS,
  NESTED_OPTION,
  {
    names: ['-e', '--exception'],
    key: 'exception',
    kind: 'flag',
    default: false,
    description: 'only calls that raised (with the exception type, message and traceback)',
  },
  limitOption(10, 'shown calls (only calls that passed -f count)'),
  {
    names: ['-f', '--filter'],
    key: 'filter',
    kind: 'string',
    metavar: '<value>',
    expression: true,
    description: 'show only calls for which this expression of target, return_obj, cost, args, kwargs is true',
  },
  ...RENDER_OPTIONS,
];

/** One call the agent saw (agent/spyglass_agent/commands/watch.py). */
export interface WatchCall {
  time: number;
  method: string;
  thread: string;
  cost_ms: number;
  values?: Array<{ expr: string; value?: RenderedNode; error?: string }>;
  exception?: { type: string; message: string; traceback: string };
  filter_error?: { expr: string; error: string };
}

/** What watch yields, each as --json prints it. */
export interface WatchResults {
  started: { event: 'started' } & ObserveStarted;
  call: { event: 'call' } & WatchCall;
  end: { event: 'end' } & ObserveEnd;
}

/** The agent's arguments: the method, what to show and which calls. */
export interface WatchRequest {
  module: string;
  cls?: string;
  method: string;
  nested?: string;
  expr: string;
  filter?: string;
  exception: boolean;
  limit: number;
  expand: number;
  raw: boolean;
  verbose: boolean;
}

const LABEL = 12;

function printCall(out: CommandOutput, c: WatchCall): void {
  const status = c.exception ? `raised ${c.exception.type}` : 'returned';
  out.line(`─── ${clockTime(c.time)}  ${c.method}  cost=${ms(c.cost_ms)}  ${status}  thread=${c.thread}`);
  const pad = ' '.repeat(LABEL + 2);
  if (c.filter_error) {
    out.line(`  ${'FILTER'.padEnd(LABEL)}${c.filter_error.expr}`);
    out.line(`  ${'ERROR'.padEnd(LABEL)}${c.filter_error.error}`);
  }
  for (const v of c.values ?? []) {
    out.line(`  ${'EXPR'.padEnd(LABEL)}${v.expr}`);
    if (v.error !== undefined) out.line(`  ${'ERROR'.padEnd(LABEL)}${v.error}`);
    else out.line(`  ${'VALUE'.padEnd(LABEL)}${formatValue(v.value as RenderedNode, pad)}`);
  }
  if (c.exception) {
    out.line(`  ${'EXCEPTION'.padEnd(LABEL)}${c.exception.type}: ${c.exception.message}`);
    for (const l of c.exception.traceback.trimEnd().split('\n')) out.line(`${pad}${l}`);
  }
}

export const watchModel: CommandModel<WatchRequest, WatchResults> = {
  name: 'watch',
  summary: 'Display the input/output args, return object and cost time of method invocation.',
  usage: 'watch module [class] method [--expr <value>] [-nm <value>] [-e] [-r] [-v] [-n <value>] [-x <value>] [-f <value>]',
  examples: [
    { command: 'watch __main__ func -x 2', comment: 'arguments of each call, two levels deep' },
    { command: 'watch __main__ func -f "args[0][\\"query\\"]==\'hello\'"', comment: 'only calls whose first argument has query "hello"' },
    { command: 'watch __main__ func -f "return_obj[\'success\']==True"', comment: 'only calls that returned success' },
    {
      command: 'watch __main__ func --expr "{return_obj,args}" -f "cost>10"',
      comment: 'return value and arguments of calls slower than 10 ms',
    },
    { command: 'watch __main__ classA func', comment: 'a method (target is the instance)' },
    {
      command: 'watch __main__ classA func --expr "target._classA__val"',
      comment: 'a private attribute: write the mangled name, as Python does',
    },
    { command: 'watch __main__ func -e -n 1', comment: 'the next call that raises, with its traceback' },
    { command: 'watch app.views handler -nm helper', comment: 'the function helper defined inside handler' },
  ],
  options: OPTIONS,
  runsIn: 'agent',
  parse(words) {
    const { positionals, options: o } = parseArgs('watch', words, OPTIONS);
    return {
      ...methodArgs('watch', positionals, o),
      expr: o.expr as string,
      filter: o.filter as string | undefined,
      exception: o.exception as boolean,
      limit: o.limit as number,
      ...renderArgs(o),
    };
  },
  async *execute(ctx, req) {
    for await (const ev of agentEvents<{ started: ObserveStarted; call: WatchCall }, ObserveEnd>(ctx, 'watch', { ...req })) {
      if (ev.event === 'started') yield { kind: 'started', data: { event: 'started', ...ev.data } };
      else if (ev.event === 'call') yield { kind: 'call', data: { event: 'call', ...ev.data } };
      else if (ev.event === 'end') yield { kind: 'end', data: { event: 'end', ...ev.data } };
    }
  },
  textView(req, out) {
    return (step) => {
      if (step.kind === 'started') {
        const data = step.data;
        out.note(`watching ${data.method} (${data.file}:${data.line}); up to ${req.limit} call(s); Ctrl-C to stop`);
      } else if (step.kind === 'call') printCall(out, step.data);
      else endNote(out, 'call(s)', step.data);
    };
  },
};

export const watchCommand = shellCommand(watchModel);
