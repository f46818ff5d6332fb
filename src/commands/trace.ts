// `trace module [class] method [-i <value>] [-nm <value>] [-et <value>] [-d <value>]
// [-n <value>] [-f <value>]`: the tree of calls made inside each call of a method, with
// cost, percent of the parent and file:line; a coroutine or generator call is one node
// with the time it spent suspended and on what, and tasks it created show under it.
// Recording, -i/-d pruning and -et happen in the agent
// (agent/spyglass_agent/commands/trace/tracer.py); this module draws the tree.
import { parseArgs, type OptionSpec } from './args.js';
import { agentEvents, type CommandModel, shellCommand } from './model.js';
import {
  LOCATION_OPTIONS,
  NESTED_OPTION,
  type MethodTarget,
  type ObserveEnd,
  type ObserveStarted,
  clockTime,
  endNote,
  limitOption,
  methodArgs,
  ms,
} from './observe-stream.js';
import type { CommandOutput } from './types.js';

const OPTIONS: OptionSpec[] = [
  {
    names: ['-i', '--interval'],
    key: 'interval',
    kind: 'float',
    default: 0.1,
    min: 0,
    metavar: '<value>',
    description: 'hide inner calls cheaper than this many ms of wall time (default 0.1; a kept call always keeps its callers)',
  },
  ...LOCATION_OPTIONS,
  NESTED_OPTION,
  {
    names: ['-et', '--entrance_time'],
    key: 'entrance',
    kind: 'float',
    default: 0,
    min: 0,
    metavar: '<value>',
    description: "only show calls whose whole wall time (an async call's too) exceeds this many ms",
  },
  {
    names: ['-d', '--depth'],
    key: 'depth',
    kind: 'int',
    min: 1,
    metavar: '<value>',
    description: 'show calls at most this many levels below the method, every one of them unless -i is given too (the call path)',
  },
  limitOption(10, 'shown calls'),
  {
    names: ['-f', '--filter', '--filter_expr'],
    key: 'filter',
    kind: 'string',
    metavar: '<value>',
    expression: true,
    description: 'trace only calls for which this expression of target, args, kwargs is true (checked before the call)',
  },
];

export interface TraceNode {
  name: string;
  kind: 'py' | 'c';
  file: string;
  /** the file as the target names it (absolute); a C function's is its caller's */
  path: string;
  /** 0 where it cannot be told (a C function called from code that is not its parent's) */
  line: number;
  call_line: number;
  /** wall time; a generator's excludes the time its consumer held a value it yielded */
  cost_ms: number;
  max_ms: number;
  count: number;
  children: TraceNode[];
  /** a coroutine or generator call: the time it spent suspended, and on what when known */
  suspended_ms?: number;
  waits?: Array<{ on: string; ms: number }>;
  /** the coroutine of another task (created by its parent: gather, create_task, TaskGroup) */
  task?: boolean;
  /** that task was still running when the traced call returned */
  unfinished?: boolean;
}

/** One traced call (agent/spyglass_agent/commands/trace/). */
export interface TraceEvent {
  time: number;
  method: string;
  thread: string;
  /** the calling thread's OS thread id */
  tid?: number;
  /** whether it is a daemon thread; null for a thread threading did not start */
  daemon?: boolean | null;
  cost_ms?: number;
  exception?: { type: string; message: string };
  tree?: TraceNode;
  filter_error?: { expr: string; error: string };
  unavailable?: string;
  /** the recording lacks calls: past the recorder's budget, below -d, or it stopped */
  truncated?: { over_budget?: number; below_depth?: number; error?: string };
}

/** "(incomplete: ...)" under a tree whose recording lacks calls, so it never passes for whole. */
function truncatedNote(cut: NonNullable<TraceEvent['truncated']>, depth: number | undefined): string {
  const parts: string[] = [];
  if (cut.over_budget) parts.push(`${cut.over_budget} call(s) past the recorder's budget not recorded`);
  if (cut.below_depth) parts.push(`${cut.below_depth} call(s) below -d ${depth} not shown`);
  if (cut.error) parts.push(cut.error);
  return `(incomplete: ${parts.join('; ')})`;
}

/** "another task, suspended 20.1ms on asyncio.sleep" (empty for a plain call) */
function stepsNote(n: TraceNode): string {
  const parts: string[] = [];
  if (n.task) parts.push(n.unfinished ? 'another task, still running when the call returned' : 'another task');
  if (n.suspended_ms && n.suspended_ms > 0) {
    const waits = n.waits ?? [];
    let text = `suspended ${ms(n.suspended_ms)}`;
    if (waits.length === 1) text += ` on ${waits[0].on}`;
    else if (waits.length > 1) text += ` on ${waits.map((w) => `${w.on} ${ms(w.ms)}`).join(', ')}`;
    parts.push(text);
  }
  return parts.join(', ');
}

function describe(n: TraceNode, parent?: TraceNode): string {
  let text = `[${ms(n.cost_ms)}`;
  if (parent && parent.cost_ms > 0) text += ` ${((n.cost_ms / parent.cost_ms) * 100).toFixed(1)}%`;
  text += `] ${n.name}`;
  if (n.count > 1) text += ` ×${n.count} (max ${ms(n.max_ms)})`;
  if (n.file) text += n.line > 0 ? `  ${n.file}:${n.line}` : `  ${n.file}`;
  const note = stepsNote(n);
  if (note) text += `  (${note})`;
  return text;
}

/** The tree as indented lines: ├─ / └─ connectors, cost, percent of parent, file:line. */
export function treeLines(root: TraceNode): string[] {
  const out = [describe(root)];
  const walk = (node: TraceNode, prefix: string) => {
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      out.push(`${prefix}${last ? '└─ ' : '├─ '}${describe(child, node)}`);
      walk(child, prefix + (last ? '   ' : '│  '));
    });
  };
  walk(root, '');
  return out;
}

/** What trace yields, each as --json prints it. */
export interface TraceResults {
  started: { event: 'started' } & ObserveStarted & { backend: string };
  trace: { event: 'trace' } & TraceEvent;
  end: { event: 'end' } & ObserveEnd;
}

/** The agent's arguments: the method, the pruning, which calls. */
export interface TraceRequest extends MethodTarget {
  interval: number;
  entrance: number;
  depth?: number;
  limit: number;
  filter?: string;
}

function printTrace(out: CommandOutput, t: TraceEvent, depth: number | undefined): void {
  if (t.filter_error) {
    out.line(`─── ${clockTime(t.time)}  ${t.method}  thread=${t.thread}  -f ${t.filter_error.expr} raised ${t.filter_error.error}`);
    return;
  }
  if (t.unavailable) {
    out.line(`─── ${clockTime(t.time)}  ${t.method}  thread=${t.thread}  not traced: ${t.unavailable}`);
    return;
  }
  const status = t.exception ? `  raised ${t.exception.message}` : '';
  // thread, tid, daemon and cost as the reference tool heads a call
  const daemon = t.daemon === undefined || t.daemon === null ? '?' : t.daemon ? 'True' : 'False';
  out.line(
    `─── ${clockTime(t.time)}  ${t.method}  thread=${t.thread}  tid=${t.tid ?? '?'}  daemon=${daemon}  cost=${ms(t.cost_ms ?? 0)}${status}`,
  );
  for (const l of treeLines(t.tree as TraceNode)) out.line(l);
  if (t.truncated) out.line(truncatedNote(t.truncated, depth));
}

export const traceModel: CommandModel<TraceRequest, TraceResults> = {
  name: 'trace',
  summary: 'Trace the calls made inside a method with their cost, as an indented tree.',
  usage: 'trace module [class] method [-i <value>] [-nm <value>] [-et <value>] [-d <value>] [-n <value>] [-f <value>]',
  examples: [
    { command: 'trace __main__ func', comment: 'trace a module function (inner calls of 0.1 ms or more)' },
    { command: 'trace __main__ func -i 1', comment: 'only inner calls of 1 ms or more' },
    { command: 'trace __main__ classA func', comment: 'trace a method' },
    { command: 'trace __main__ func -et 30', comment: 'only calls that took more than 30 ms in all' },
    { command: 'trace __main__ func -d 2', comment: 'every call two levels deep: the call path' },
    { command: 'trace __main__ func -f "args[0][\\"query\\"]==\'hello\'"', comment: 'only calls whose first argument has query "hello"' },
  ],
  options: OPTIONS,
  runsIn: 'agent',
  parse(words) {
    const { positionals, options: o, given } = parseArgs('trace', words, OPTIONS);
    return {
      ...methodArgs('trace', positionals, o),
      // -d alone shows every call down to that depth: the reference sets the interval to 0 then
      interval: o.depth !== undefined && !given.has('interval') ? 0 : (o.interval as number),
      entrance: o.entrance as number,
      depth: o.depth as number | undefined,
      limit: o.limit as number,
      filter: o.filter as string | undefined,
    };
  },
  async *execute(ctx, req) {
    type Events = { started: ObserveStarted & { backend: string }; trace: TraceEvent };
    for await (const ev of agentEvents<Events, ObserveEnd>(ctx, 'trace', { ...req })) {
      if (ev.event === 'started') yield { kind: 'started', data: { event: 'started', ...ev.data } };
      else if (ev.event === 'trace') yield { kind: 'trace', data: { event: 'trace', ...ev.data } };
      else if (ev.event === 'end') yield { kind: 'end', data: { event: 'end', ...ev.data } };
    }
  },
  textView(req, out) {
    return (step) => {
      if (step.kind === 'started') {
        const data = step.data;
        out.note(`tracing ${data.method} (${data.file}:${data.line}) with ${data.backend}; up to ${req.limit} call(s); Ctrl-C to stop`);
      } else if (step.kind === 'trace') printTrace(out, step.data, req.depth);
      else endNote(out, 'call(s)', step.data);
    };
  },
};

export const traceCommand = shellCommand(traceModel);
