// `watch module [class] method [--expr <value>] [-nm <value>] [-e] [-r] [-v] [-n <value>]
// [-x <value>] [-f <value>]`: each call's cost and the values of --expr, as the reference
// tool's watch. The agent filters and evaluates on the calling thread and renders on its
// own; this module only prints (agent/spyglass_agent/commands/watch.py has the semantics).
import { parseArgs, type OptionSpec } from './args.js';
import { NESTED_OPTION, clockTime, endNote, limitOption, methodArgs, ms, streamRequest, type ObserveStarted } from './observe-stream.js';
import type { CommandContext, ShellCommand } from './types.js';
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

interface CallEvent {
  time: number;
  method: string;
  thread: string;
  cost_ms: number;
  values?: Array<{ expr: string; value?: RenderedNode; error?: string }>;
  exception?: { type: string; message: string; traceback: string };
  filter_error?: { expr: string; error: string };
}

const LABEL = 12;

function printCall(ctx: CommandContext, c: CallEvent): void {
  const status = c.exception ? `raised ${c.exception.type}` : 'returned';
  ctx.out.line(`─── ${clockTime(c.time)}  ${c.method}  cost=${ms(c.cost_ms)}  ${status}  thread=${c.thread}`);
  const pad = ' '.repeat(LABEL + 2);
  if (c.filter_error) {
    ctx.out.line(`  ${'FILTER'.padEnd(LABEL)}${c.filter_error.expr}`);
    ctx.out.line(`  ${'ERROR'.padEnd(LABEL)}${c.filter_error.error}`);
  }
  for (const v of c.values ?? []) {
    ctx.out.line(`  ${'EXPR'.padEnd(LABEL)}${v.expr}`);
    if (v.error !== undefined) ctx.out.line(`  ${'ERROR'.padEnd(LABEL)}${v.error}`);
    else ctx.out.line(`  ${'VALUE'.padEnd(LABEL)}${formatValue(v.value as RenderedNode, pad)}`);
  }
  if (c.exception) {
    ctx.out.line(`  ${'EXCEPTION'.padEnd(LABEL)}${c.exception.type}: ${c.exception.message}`);
    for (const l of c.exception.traceback.trimEnd().split('\n')) ctx.out.line(`${pad}${l}`);
  }
}

export const watchCommand: ShellCommand = {
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
  async run(ctx, words) {
    const { positionals, options: o } = parseArgs('watch', words, OPTIONS);
    const args = {
      ...methodArgs('watch', positionals, o),
      expr: o.expr,
      filter: o.filter,
      exception: o.exception,
      limit: o.limit,
      ...renderArgs(o),
    };
    const end = await streamRequest<{ started: ObserveStarted; call: CallEvent }>(ctx, 'watch', args, (ev) => {
      if (ev.event === 'started') {
        const data = ev.data;
        ctx.out.record({ event: 'started', ...data });
        ctx.out.note(`watching ${data.method} (${data.file}:${data.line}); up to ${o.limit} call(s); Ctrl-C to stop`);
      } else if (ev.event === 'call') {
        ctx.out.record({ event: 'call', ...ev.data });
        printCall(ctx, ev.data);
      }
    });
    ctx.out.record({ event: 'end', ...end });
    endNote(ctx, 'call(s)', end);
  },
};
