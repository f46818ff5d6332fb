// `mem summary|diff|top|refs`: what the target's Python heap holds (objects by type),
// what grows between two moments, which source lines allocate (tracemalloc for the
// interval only) and who keeps an instance alive (referrers up to a module global or a
// thread's local variable). All of it runs in the agent (commands/mem/); this module
// parses the grammar and draws the tables.
import { UsageError } from '../errors.js';
import { parseArgs, type OptionSpec } from './args.js';
import { type CommandModel, type ExecuteContext, type StepOf, agentEvents, shellCommand } from './model.js';
import type { CommandOutput } from './types.js';

const OPTIONS: OptionSpec[] = [
  {
    names: ['--limit', '-n'],
    key: 'limit',
    kind: 'int',
    default: 10,
    min: 1,
    metavar: '<value>',
    description: 'how many rows to show (default 10)',
  },
  {
    names: ['--order', '-o'],
    key: 'order',
    kind: 'string',
    default: 'descending',
    choices: ['descending', 'ascending'],
    metavar: '<value>',
    description: 'descending (largest first, default) or ascending',
  },
  {
    names: ['--interval', '-i'],
    key: 'interval',
    kind: 'float',
    min: 0,
    max: 3600,
    metavar: '<seconds>',
    description: 'diff and top: seconds between the two snapshots (default 15 for diff, 10 for top)',
  },
];

/** diff and top say what they are waiting for */
interface MemEvents {
  progress: { message: string };
}

export interface MemSummaryRow {
  type: string;
  count: number;
  size: number;
}

export interface MemSummary {
  rows: MemSummaryRow[];
  types: number;
  total_count: number;
  total_size: number;
  objects: number;
  seconds: number;
}

export interface MemDiffRow extends MemSummaryRow {
  count_delta: number;
  size_delta: number;
}

export interface MemDiff {
  rows: MemDiffRow[];
  changed_types: number;
  count_delta: number;
  size_delta: number;
  interval: number;
  cancelled?: boolean;
}

export interface MemTopRow {
  file: string;
  line: number;
  code: string;
  size_delta: number;
  count_delta: number;
  size: number;
  count: number;
}

export interface MemTop {
  rows: MemTopRow[];
  interval: number;
  completed: boolean;
  already_tracing: boolean;
  size_delta: number;
}

export interface MemChainStep {
  type: string;
  address: string;
  repr: string;
  edge?: string;
}

export interface MemRefs {
  type: string;
  instances: number;
  visited: number;
  chain: MemChainStep[];
  root:
    | null
    | { kind: 'module'; module: string; name: string }
    | { kind: 'frame'; thread: string; function: string; file: string; line: number; name: string };
  reason?: string;
}

/** Bytes as people read them: 512 B, 1.5 KiB, 20.3 MiB. */
export function humanBytes(n: number): string {
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  if (v < 1024) return `${sign}${v} B`;
  for (const unit of ['KiB', 'MiB', 'GiB']) {
    v /= 1024;
    if (v < 1024 || unit === 'GiB') return `${sign}${v.toFixed(1)} ${unit}`;
  }
  return `${sign}${v}`;
}

const signed = (n: number, fmt: (n: number) => string = String) => (n > 0 ? '+' : '') + fmt(n);

/** Right-aligned columns under a header; the last column is left-aligned (a name or code). */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padStart(widths[i]))).join('  ');
  return [fmt(header), ...rows.map(fmt)];
}

function takesNoWords(action: string, positionals: string[]): void {
  if (positionals.length)
    throw new UsageError(
      `mem ${action}: unexpected ${positionals.map((p) => JSON.stringify(p)).join(' ')}`,
      `e.g. \`mem ${action} --limit 20\``,
    );
}

type Order = 'descending' | 'ascending';

export type MemRequest =
  | { action: 'summary'; limit: number; order: Order }
  | { action: 'diff'; interval: number; limit: number; order: Order }
  | { action: 'top'; interval: number; limit: number }
  | { action: 'refs'; module: string; cls: string };

/** What `mem` yields: one answer, as --json prints it. */
export interface MemResults {
  summary: MemSummary;
  diff: MemDiff;
  top: MemTop;
  refs: MemRefs;
}

async function* streamed(ctx: ExecuteContext, req: Extract<MemRequest, { action: 'diff' | 'top' }>): AsyncGenerator<StepOf<MemResults>> {
  for await (const ev of agentEvents<MemEvents, MemDiff | MemTop>(ctx, 'mem', { ...req })) {
    if (ev.event === 'progress') yield { progress: `mem ${req.action}: ${ev.data.message}` };
    else if (ev.event === 'end') {
      if (req.action === 'diff' && (ev.data as MemDiff).cancelled) yield { progress: 'mem diff: stopped before the second summary' };
      yield { kind: req.action, data: ev.data } as StepOf<MemResults>;
    }
  }
}

function summaryText(out: CommandOutput, a: MemSummary): void {
  const share = (s: number) => (a.total_size ? ((100 * s) / a.total_size).toFixed(1) + '%' : '-');
  const rows = a.rows.map((r) => [String(r.count), humanBytes(r.size), share(r.size), r.type]);
  for (const l of table(['count', 'size', 'share', 'type'], rows)) out.line(l);
  out.line(
    `total: ${a.total_count} objects of ${a.types} types, ${humanBytes(a.total_size)} (sys.getsizeof, shallow; read in ${a.seconds.toFixed(2)} s)`,
  );
}

function diffText(out: CommandOutput, end: MemDiff): void {
  if (end.cancelled) return;
  const rows = end.rows.map((r) => [String(r.count), signed(r.count_delta), humanBytes(r.size), signed(r.size_delta, humanBytes), r.type]);
  for (const l of table(['count', 'Δcount', 'size', 'Δsize', 'type'], rows)) out.line(l);
  out.line(
    `${end.changed_types} types changed in ${end.interval} s: ${signed(end.count_delta)} objects, ${signed(end.size_delta, humanBytes)}`,
  );
}

function topText(out: CommandOutput, end: MemTop): void {
  const rows = end.rows.map((r) => [signed(r.size_delta, humanBytes), signed(r.count_delta), `${r.file}:${r.line}`, r.code]);
  for (const l of table(['Δsize', 'Δblocks', 'where', 'code'], rows)) out.line(l);
  const how = end.already_tracing
    ? 'tracemalloc was already running in the target and was left running'
    : 'tracemalloc was started for the interval and stopped afterwards';
  out.line(
    `net ${signed(end.size_delta, humanBytes)} allocated by Python code in ${end.interval} s${end.completed ? '' : ' (stopped early)'}; ${how}`,
  );
}

function refsText(out: CommandOutput, a: MemRefs): void {
  out.line(`${a.instances} live instance${a.instances === 1 ? '' : 's'} of ${a.type}; what keeps one alive (root first):`);
  a.chain.forEach((s, i) => out.line(`${'  '.repeat(i)}${s.repr}  <${s.type} at ${s.address}>${s.edge ? `  ${s.edge.trim()} ->` : ''}`));
  const r = a.root;
  if (!r) out.line(`root not found: ${a.reason}`);
  else if (r.kind === 'module') out.line(`root: the global ${r.name} of module ${r.module}`);
  else out.line(`root: the local variable ${r.name} of ${r.function} (${r.file}:${r.line}) in thread '${r.thread}'`);
}

export const memModel: CommandModel<MemRequest, MemResults> = {
  name: 'mem',
  summary:
    'Memory of the target: objects by type (summary), growth over an interval (diff), allocating lines (top), who keeps an instance alive (refs).',
  description:
    'summary walks every object the garbage collector tracks and the atoms (str, int, bytes...) they point at, each counted once, ' +
    'with its shallow size (sys.getsizeof); it runs inside the target with the standard library only and allocates about 8 bytes ' +
    'per tracked object while it runs. diff takes two summaries --interval seconds apart. top runs tracemalloc for the interval ' +
    'only (it slows allocation while on) and lists the source lines with the most net new memory. refs follows the referrers of ' +
    'one live instance up to a module global or a local variable of a thread.',
  usage:
    'mem summary [--limit <value>] [--order descending|ascending] | mem diff [--interval <seconds>] [--limit <value>] [--order ...] | mem top [--interval <seconds>] [--limit <value>] | mem refs module class',
  examples: [
    { command: 'mem summary', comment: 'objects by type, largest total size first, with a total line' },
    { command: 'mem summary --limit 100 --order descending', comment: 'the 100 largest types' },
    { command: 'mem diff --interval 10 --limit 100 --order descending', comment: 'what grew most in 10 s (signed deltas)' },
    { command: 'mem top --interval 10', comment: 'the source lines that allocated the most memory in 10 s' },
    { command: 'mem refs app.cache Entry', comment: 'the chain of references that keeps an Entry alive' },
  ],
  options: OPTIONS,
  runsIn: 'agent',
  parse(words) {
    const { positionals, options: o } = parseArgs('mem', words, OPTIONS);
    const [action, ...rest] = positionals;
    const limit = o.limit as number;
    const order = o.order as Order;
    if (action === 'refs') {
      if (rest.length !== 2)
        throw new UsageError(`mem refs: expected \`module class\`, got ${rest.length} word(s)`, 'e.g. `mem refs app.models Session`');
      return { action, module: rest[0], cls: rest[1] };
    }
    if (action === 'summary' || action === 'diff' || action === 'top') takesNoWords(action, rest);
    const interval = o.interval as number | undefined;
    if (action === 'diff') return { action, interval: interval ?? 15, limit, order };
    if (action === 'top') {
      if ((interval ?? 10) < 0.1) throw new UsageError('mem top: --interval must be at least 0.1 s');
      return { action, interval: interval ?? 10, limit };
    }
    if (action === 'summary') {
      if (interval !== undefined) throw new UsageError('mem summary takes no --interval', 'did you mean `mem diff --interval ...`?');
      return { action, limit, order };
    }
    throw new UsageError(
      `mem: expected summary, diff, top or refs${action ? `, got ${JSON.stringify(action)}` : ''}`,
      'e.g. `mem summary --limit 20`',
    );
  },
  async *execute(ctx, req) {
    if (req.action === 'summary') yield { kind: 'summary', data: (await ctx.agent.call('mem', { ...req })) as MemSummary };
    else if (req.action === 'refs') yield { kind: 'refs', data: (await ctx.agent.call('mem', { ...req })) as MemRefs };
    else yield* streamed(ctx, req);
  },
  textView(_req, out) {
    return (step) => {
      if (step.kind === 'summary') summaryText(out, step.data);
      else if (step.kind === 'diff') diffText(out, step.data);
      else if (step.kind === 'top') topText(out, step.data);
      else refsText(out, step.data);
    };
  },
};

export const memCommand = shellCommand(memModel);
