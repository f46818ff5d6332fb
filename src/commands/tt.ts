// `tt`, the time tunnel: `-t module [class] method` records calls (arguments and results
// as the call saw them), `-l` lists records, `-i INDEX` shows one, `-i INDEX -p` calls it
// again, `-d INDEX` / `-da` delete. Records live in the agent, shared by every client, until
// `tt -d`/`tt -da` or the agent stops (reset and detach remove hooks, not records).
import { UsageError } from '../errors.js';
import { parseArgs, parseMethodTarget, type OptionSpec } from './args.js';
import { type CommandModel, type ExecuteContext, type StepOf, agentEvents, shellCommand } from './model.js';
import type { MethodTarget } from './observe-stream.js';
import type { CommandOutput } from './types.js';
import { RENDER_OPTIONS, type RenderRequest, formatValue, renderArgs, shortValue } from './value-text.js';
import type { RenderedNode } from '../channel/protocol.js';

const OPTIONS: OptionSpec[] = [
  {
    names: ['-t', '--time_tunnel', '--time-tunnel'],
    key: 'target',
    kind: 'flag',
    default: false,
    description: 'followed by `module [class] method`: record its calls',
  },
  {
    names: ['-nm', '--nested-method'],
    key: 'nested',
    kind: 'string',
    metavar: '<value>',
    description: 'record a function defined inside the method (one level deep)',
  },
  {
    names: ['-n', '--limits'],
    key: 'limit',
    kind: 'int',
    default: 50,
    min: 1,
    metavar: '<value>',
    description: 'stop recording after this many calls (default 50)',
  },
  { names: ['-l', '--list'], key: 'list', kind: 'flag', default: false, description: 'list the records' },
  { names: ['-i', '--index'], key: 'index', kind: 'int', metavar: '<value>', description: 'show the record with this index' },
  { names: ['-d', '--delete'], key: 'delete', kind: 'int', metavar: '<value>', description: 'delete the record with this index' },
  { names: ['-da', '--delete_all'], key: 'deleteAll', kind: 'flag', default: false, description: 'delete every record' },
  {
    names: ['-p', '--play'],
    key: 'play',
    kind: 'flag',
    default: false,
    description: 'with -i: call the method again with the recorded arguments (side effects happen again)',
  },
  {
    names: ['-f', '--filter'],
    key: 'filter',
    kind: 'string',
    metavar: '<value>',
    expression: true,
    description:
      'record only calls for which this expression of target, return_obj, cost, args, kwargs is true; with -l, list only the records it holds for',
  },
  {
    names: ['-m', '--method'],
    key: 'method',
    kind: 'string',
    metavar: '<value>',
    description: 'with -l: only records of module.class.method or module.function (module.None.function too)',
  },
  {
    names: ['--max-mem'],
    key: 'maxMem',
    kind: 'int',
    min: 1,
    metavar: '<MiB>',
    description: "memory cap of the agent's records (default 64 MiB); past it the oldest are dropped",
  },
  ...RENDER_OPTIONS,
];

/** One record as `tt -l` lists it: its values as one line of text each. */
export interface TtSummary {
  index: number;
  timestamp: number;
  cost_ms: number;
  /** module.function or module.Class.method */
  method: string;
  module: string;
  class: string | null;
  /** the function's name (and .nested for -nm) */
  function: string;
  is_return: boolean;
  is_exception: boolean;
  args: string;
  kwargs: string | null;
  result: string;
  thread: string;
  replay_of: number | null;
}

/** What `tt -t` streams while it records. */
interface RecordEvents {
  started: { target: string; limit: number; max_mem_mb: number };
  record: TtSummary;
  /** records dropped to stay under the memory cap, or the first error of -f */
  notice: { text: string; dropped?: number[]; filter_error?: string };
}

interface RecordEnd {
  recorded?: number;
  records?: number;
  dropped?: number;
  filter_error?: string;
  lost?: number;
}

/** One argument or result of a record, rendered by the agent as a value tree. */
export interface ShownValue {
  name: string;
  value: RenderedNode;
  copied: boolean;
  kept?: string;
}

/** One record in full (`tt -i`). */
export interface TtDetail extends Omit<TtSummary, 'args' | 'kwargs' | 'result'> {
  args: ShownValue[];
  kwargs: ShownValue[];
  result: ShownValue | null;
  exception?: { type: string; message: string; traceback: string; value: RenderedNode };
  values_dropped: boolean;
  dropped?: number[];
}

function stamp(t: number): string {
  const d = new Date(t * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** The list's columns, MODULE and CLASS apart as the reference shows them; widths from what is listed. */
function table(records: TtSummary[]): string[] {
  const moduleWidth = Math.max(6, ...records.map((s) => s.module.length));
  const classWidth = Math.max(5, ...records.map((s) => (s.class ?? '-').length));
  const header = [
    'INDEX',
    'TIMESTAMP'.padEnd(23),
    'COST(ms)'.padStart(10),
    'IS-RET',
    'IS-EXP',
    'MODULE'.padEnd(moduleWidth),
    'CLASS'.padEnd(classWidth),
    'METHOD',
  ].join('  ');
  return [header, ...records.map((s) => row(s, moduleWidth, classWidth))];
}

function row(s: TtSummary, moduleWidth: number, classWidth: number): string {
  const args = s.kwargs ? `${s.args} ${s.kwargs}` : s.args;
  return (
    [
      String(s.index).padEnd(5),
      stamp(s.timestamp),
      s.cost_ms.toFixed(3).padStart(10),
      String(s.is_return).padEnd(6),
      String(s.is_exception).padEnd(6),
      s.module.padEnd(moduleWidth),
      (s.class ?? '-').padEnd(classWidth),
      s.function + (s.replay_of ? ` (replay of ${s.replay_of})` : ''),
    ].join('  ') + `\n       args ${shortValue(args, 100)}  →  ${shortValue(s.result, 100)}`
  );
}

/** What `tt` yields, each as --json prints it. */
export interface TtResults {
  /** -t: each call recorded, as it is recorded */
  record: TtSummary;
  /** -t: records dropped to stay under the memory cap, or the first error of -f */
  notice: { notice: string; dropped?: number[]; filter_error?: string };
  /** -t: the end of recording */
  end: { end: true } & RecordEnd;
  /** -l */
  list: TtList;
  /** -i, and -i -p (the new record the replay made) */
  detail: TtDetail;
  /** -d */
  deleted: { deleted: number; left: number };
  /** -da */
  deleted_all: { deleted: number };
}

export interface TtList {
  records: TtSummary[];
  total: number;
  dropped_for_cap: number;
  bytes_held: number;
  max_bytes: number;
}

export type TtRequest =
  | ({ action: 'record'; limit: number; filter?: string; maxMem?: number } & MethodTarget)
  | { action: 'list'; method?: string; filter?: string }
  | ({ action: 'show' | 'play'; index: number } & RenderRequest)
  | { action: 'delete'; index: number }
  | { action: 'delete_all' };

/** the width of tt -i's labels, the reference's longest (RAISE-EXCEPTION) and a space */
const LABEL_WIDTH = 16;

function showValue(out: CommandOutput, label: string, v: ShownValue) {
  const mark = v.copied ? '' : `  [${v.kept ?? 'kept by reference'}]`;
  out.line(`${label.padEnd(LABEL_WIDTH)}${formatValue(v.value, ' '.repeat(LABEL_WIDTH))}${mark}`);
}

/** tt -i: one record, labelled as the reference labels it (GMT-CREATE, IS_RETURN, RETURN_OBJ...). */
function detail(out: CommandOutput, d: TtDetail) {
  const field = (label: string, text: string) => out.line(`${label.padEnd(LABEL_WIDTH)}${text}`.trimEnd());
  field('INDEX', `${d.index}${d.replay_of ? ` (replay of ${d.replay_of})` : ''}`);
  field('GMT-CREATE', `${stamp(d.timestamp)}  (thread ${d.thread})`);
  field('COST(ms)', d.cost_ms.toFixed(3));
  field('MODULE', d.module);
  field('CLASS', d.class ?? '-');
  field('METHOD', d.function);
  field('IS_RETURN', String(d.is_return));
  field('IS_EXCEPTION', String(d.is_exception));
  if (d.values_dropped) field('VALUES', 'not kept (the call was over the memory cap)');
  // positional parameters (as bound, self first) and keyword-only / **kwargs, each by name
  field('ARGS', d.args.length ? '' : '()');
  d.args.forEach((a) => showValue(out, `  ${a.name}`, a));
  field('KWARGS', d.kwargs.length ? '' : '{}');
  d.kwargs.forEach((a) => showValue(out, `  ${a.name}`, a));
  if (d.result) showValue(out, 'RETURN_OBJ', d.result);
  if (d.exception) {
    field('RAISE-EXCEPTION', `${d.exception.type}: ${d.exception.message}`);
    for (const l of d.exception.traceback.trimEnd().split('\n')) out.line(`  ${l}`);
  }
  if (d.dropped?.length) out.note(`memory cap reached: dropped the oldest record(s) ${d.dropped.join(', ')}`);
}

async function* record(ctx: ExecuteContext, req: Extract<TtRequest, { action: 'record' }>): AsyncGenerator<StepOf<TtResults>> {
  const { maxMem, ...rest } = req;
  for await (const ev of agentEvents<RecordEvents, RecordEnd>(ctx, 'tt', { ...rest, max_mem: maxMem })) {
    if (ev.event === 'started') {
      const data = ev.data;
      yield { progress: `recording ${data.target} (up to ${data.limit} calls; memory cap ${data.max_mem_mb} MiB); Ctrl-C to stop` };
    } else if (ev.event === 'record') yield { kind: 'record', data: ev.data };
    else if (ev.event === 'notice')
      yield { kind: 'notice', data: { notice: ev.data.text, dropped: ev.data.dropped, filter_error: ev.data.filter_error } };
    else if (ev.event === 'end') yield { kind: 'end', data: { end: true, ...ev.data } };
  }
}

function recordEndNotes(out: CommandOutput, end: RecordEnd): void {
  if (end.filter_error && !end.recorded) out.note(`-f raised on calls (they were not recorded): ${end.filter_error}`);
  if (end.lost) out.note(`${end.lost} records were made faster than they could be shown; \`tt -l\` lists them all`);
  out.note(
    `recorded ${end.recorded ?? 0} call(s); ${end.records ?? 0} record(s) kept` +
      (end.dropped ? ` (${end.dropped} oldest dropped for the memory cap)` : '') +
      ' in the agent until `tt -da` — `tt -l`, `tt -i INDEX`, `tt -i INDEX -p`',
  );
}

type Mode = 'record' | 'list' | 'show' | 'play' | 'delete' | 'delete_all';

function modeOf(o: Record<string, string | number | boolean | undefined>, positionals: string[]): Mode {
  const modes: Mode[] = [];
  if (o.target) modes.push('record');
  if (o.deleteAll) modes.push('delete_all');
  if (o.delete !== undefined) modes.push('delete');
  if (o.index !== undefined) modes.push(o.play ? 'play' : 'show');
  if (o.list || (o.method !== undefined && !modes.length)) modes.push('list');
  if (o.play && o.index === undefined) throw new UsageError('tt: -p needs -i INDEX (the record to replay)', 'e.g. `tt -i 1000 -p`');
  if (modes.length !== 1) {
    throw new UsageError(
      modes.length ? `tt: choose one of -t, -l, -i, -d, -da (got ${modes.join(', ')})` : 'tt: nothing to do',
      'e.g. `tt -t __main__ A func`, `tt -l`, `tt -i 1000`, `tt -i 1000 -p`',
    );
  }
  if (modes[0] !== 'record' && positionals.length)
    throw new UsageError(`tt: unexpected words ${positionals.join(' ')} (only -t takes \`module [class] method\`)`);
  return modes[0];
}

export const ttModel: CommandModel<TtRequest, TtResults> = {
  name: 'tt',
  summary: 'Time tunnel: record calls of a method with their arguments and results, list, inspect and replay them.',
  usage:
    'tt [-t module [class] method] [-nm <value>] [-n <value>] [-l] [-i <value>] [-d <value>] [-da] [-x <value>] [-p] [-f <value>] [-r] [-v] [-m <value>] [--max-mem <MiB>]',
  examples: [
    { command: 'tt -t __main__ func', comment: 'record calls of a module function' },
    { command: 'tt -t __main__ A func', comment: 'record calls of a method' },
    { command: 'tt -l', comment: 'list the records' },
    { command: 'tt -l -m __main__.func', comment: 'only those of one function (__main__.None.func too, as the reference spells it)' },
    { command: 'tt -i 1000 -x 3', comment: 'show record 1000, three levels deep' },
    { command: 'tt -i 1000 -p', comment: 'call it again with the same (recorded) arguments' },
    {
      command: 'tt -t __main__ func -f "return_obj[\'success\']==True and cost>10"',
      comment: 'record only successful calls slower than 10 ms',
    },
    {
      command: 'tt -t __main__ func -f "args[0][\\"query\\"]==\'hello\'"',
      comment: 'record only calls whose first argument has query "hello"',
    },
  ],
  options: OPTIONS,
  runsIn: 'agent',
  parse(words) {
    const { positionals, options: o } = parseArgs('tt', words, OPTIONS);
    const mode = modeOf(o, positionals);
    switch (mode) {
      case 'record':
        return {
          action: 'record',
          ...parseMethodTarget('tt', positionals),
          nested: o.nested as string | undefined,
          limit: o.limit as number,
          filter: o.filter as string | undefined,
          maxMem: o.maxMem as number | undefined,
        };
      case 'list':
        return { action: 'list', method: o.method as string | undefined, filter: o.filter as string | undefined };
      case 'show':
      case 'play':
        return { action: mode, index: o.index as number, ...renderArgs(o) };
      case 'delete':
        return { action: 'delete', index: o.delete as number };
      case 'delete_all':
        return { action: 'delete_all' };
    }
  },
  async *execute(ctx, req) {
    switch (req.action) {
      case 'record':
        yield* record(ctx, req);
        return;
      case 'list':
        yield { kind: 'list', data: (await ctx.agent.call('tt', { ...req })) as TtList };
        return;
      case 'show':
        yield { kind: 'detail', data: (await ctx.agent.call('tt', { ...req })) as TtDetail };
        return;
      case 'play': {
        const d = (await ctx.agent.call('tt', { ...req })) as TtDetail;
        yield { progress: `replayed ${req.index} with its recorded arguments as record ${d.index}` };
        yield { kind: 'detail', data: d };
        return;
      }
      case 'delete': {
        const r = (await ctx.agent.call('tt', { ...req })) as { left: number };
        yield { kind: 'deleted', data: { deleted: req.index, left: r.left } };
        return;
      }
      case 'delete_all':
        yield { kind: 'deleted_all', data: (await ctx.agent.call('tt', { ...req })) as { deleted: number } };
        return;
    }
  },
  textView(req, out) {
    let shown = 0;
    return (step) => {
      switch (step.kind) {
        case 'record': {
          // the header with the first record, its widths from it (one method: one module and class)
          const lines = table([step.data]);
          if (!shown++) out.line(lines[0]);
          out.line(lines[1]);
          return;
        }
        case 'notice':
          return out.note(step.data.notice);
        case 'end':
          return recordEndNotes(out, step.data);
        case 'list': {
          const l = step.data;
          const which = req.action === 'list' ? [req.method, req.filter && `-f ${req.filter}`].filter(Boolean).join(' ') : '';
          if (!l.records.length)
            out.line(
              l.total ? `no records of ${which} (${l.total} in all)` : 'no records (record some with `tt -t module [class] method`)',
            );
          else for (const line of table(l.records)) out.line(line);
          const mib = (n: number) => (n / 1048576).toFixed(1);
          out.note(
            `${l.total} record(s), ~${mib(l.bytes_held)} of ${mib(l.max_bytes)} MiB` +
              (l.dropped_for_cap ? `; ${l.dropped_for_cap} oldest dropped for the memory cap` : ''),
          );
          return;
        }
        case 'detail':
          return detail(out, step.data);
        case 'deleted':
          // the reference's words first, which scripts look for
          return out.line(`Index ${step.data.deleted} is deleted successfully; ${step.data.left} record(s) left`);
        case 'deleted_all':
          return out.line(`deleted ${step.data.deleted} record(s); the next is numbered 1000`);
      }
    };
  },
};

export const ttCommand = shellCommand(ttModel);
