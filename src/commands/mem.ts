// `mem summary|diff|top|refs`: what the target's Python heap holds (objects by type),
// what grows between two moments, which source lines allocate (tracemalloc for the
// interval only) and who keeps an instance alive (referrers up to a module global or a
// thread's local variable). All of it runs in the agent (commands/mem/); this module
// parses the grammar and draws the tables.
import { UsageError } from '../errors.js';
import { parseArgs, type OptionSpec } from './args.js';
import { streamRequest, type Options } from './observe-stream.js';
import type { CommandContext, ShellCommand } from './types.js';

const OPTIONS: OptionSpec[] = [
  {
    names: ['--limit', '-n'],
    key: 'limit',
    kind: 'int',
    default: 15,
    min: 1,
    metavar: '<value>',
    description: 'how many rows to show (default 15)',
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

interface SummaryRow {
  type: string;
  count: number;
  size: number;
}

interface SummaryAnswer {
  rows: SummaryRow[];
  types: number;
  total_count: number;
  total_size: number;
  objects: number;
  seconds: number;
}

interface DiffRow extends SummaryRow {
  count_delta: number;
  size_delta: number;
}

interface DiffAnswer {
  rows: DiffRow[];
  changed_types: number;
  count_delta: number;
  size_delta: number;
  interval: number;
  cancelled?: boolean;
}

interface TopRow {
  file: string;
  line: number;
  code: string;
  size_delta: number;
  count_delta: number;
  size: number;
  count: number;
}

interface TopAnswer {
  rows: TopRow[];
  interval: number;
  completed: boolean;
  already_tracing: boolean;
  size_delta: number;
}

interface ChainStep {
  type: string;
  address: string;
  repr: string;
  edge?: string;
}

interface RefsAnswer {
  type: string;
  instances: number;
  visited: number;
  chain: ChainStep[];
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

function ordering(o: Options): Record<string, unknown> {
  return { limit: o.limit, order: o.order };
}

async function summary(ctx: CommandContext, o: Options): Promise<void> {
  const a = (await ctx.agent.call('mem', { action: 'summary', ...ordering(o) })) as SummaryAnswer;
  ctx.out.record(a);
  const share = (s: number) => (a.total_size ? ((100 * s) / a.total_size).toFixed(1) + '%' : '-');
  const rows = a.rows.map((r) => [String(r.count), humanBytes(r.size), share(r.size), r.type]);
  for (const l of table(['count', 'size', 'share', 'type'], rows)) ctx.out.line(l);
  ctx.out.line(
    `total: ${a.total_count} objects of ${a.types} types, ${humanBytes(a.total_size)} (sys.getsizeof, shallow; read in ${a.seconds.toFixed(2)} s)`,
  );
}

async function diff(ctx: CommandContext, o: Options): Promise<void> {
  const interval = (o.interval as number | undefined) ?? 15;
  const end = await streamRequest<MemEvents, DiffAnswer>(ctx, 'mem', { action: 'diff', interval, ...ordering(o) }, (ev) => {
    if (ev.event === 'progress') ctx.out.note(`mem diff: ${ev.data.message}`);
  });
  if (end.cancelled) {
    ctx.out.note('mem diff: stopped before the second summary');
    ctx.out.record(end);
    return;
  }
  ctx.out.record(end);
  const rows = end.rows.map((r) => [String(r.count), signed(r.count_delta), humanBytes(r.size), signed(r.size_delta, humanBytes), r.type]);
  for (const l of table(['count', 'Δcount', 'size', 'Δsize', 'type'], rows)) ctx.out.line(l);
  ctx.out.line(
    `${end.changed_types} types changed in ${end.interval} s: ${signed(end.count_delta)} objects, ${signed(end.size_delta, humanBytes)}`,
  );
}

async function top(ctx: CommandContext, o: Options): Promise<void> {
  const interval = (o.interval as number | undefined) ?? 10;
  if (interval < 0.1) throw new UsageError('mem top: --interval must be at least 0.1 s');
  const end = await streamRequest<MemEvents, TopAnswer>(ctx, 'mem', { action: 'top', interval, limit: o.limit }, (ev) => {
    if (ev.event === 'progress') ctx.out.note(`mem top: ${ev.data.message}`);
  });
  ctx.out.record(end);
  const rows = end.rows.map((r) => [signed(r.size_delta, humanBytes), signed(r.count_delta), `${r.file}:${r.line}`, r.code]);
  for (const l of table(['Δsize', 'Δblocks', 'where', 'code'], rows)) ctx.out.line(l);
  const how = end.already_tracing
    ? 'tracemalloc was already running in the target and was left running'
    : 'tracemalloc was started for the interval and stopped afterwards';
  ctx.out.line(
    `net ${signed(end.size_delta, humanBytes)} allocated by Python code in ${end.interval} s${end.completed ? '' : ' (stopped early)'}; ${how}`,
  );
}

async function refs(ctx: CommandContext, positionals: string[]): Promise<void> {
  if (positionals.length !== 2)
    throw new UsageError(`mem refs: expected \`module class\`, got ${positionals.length} word(s)`, 'e.g. `mem refs app.models Session`');
  const [module, cls] = positionals;
  const a = (await ctx.agent.call('mem', { action: 'refs', module, cls })) as RefsAnswer;
  ctx.out.record(a);
  ctx.out.line(`${a.instances} live instance${a.instances === 1 ? '' : 's'} of ${a.type}; what keeps one alive (root first):`);
  a.chain.forEach((s, i) =>
    ctx.out.line(`${'  '.repeat(i)}${s.repr}  <${s.type} at ${s.address}>${s.edge ? `  ${s.edge.trim()} ->` : ''}`),
  );
  const r = a.root;
  if (!r) ctx.out.line(`root not found: ${a.reason}`);
  else if (r.kind === 'module') ctx.out.line(`root: the global ${r.name} of module ${r.module}`);
  else ctx.out.line(`root: the local variable ${r.name} of ${r.function} (${r.file}:${r.line}) in thread '${r.thread}'`);
}

export const memCommand: ShellCommand = {
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
  async run(ctx, words) {
    const { positionals, options } = parseArgs('mem', words, OPTIONS);
    const [action, ...rest] = positionals;
    if (action === 'refs') return refs(ctx, rest);
    if (action === 'summary' || action === 'diff' || action === 'top') {
      takesNoWords(action, rest);
      if (action === 'diff') return diff(ctx, options);
      if (action === 'top') return top(ctx, options);
      if (options.interval !== undefined)
        throw new UsageError('mem summary takes no --interval', 'did you mean `mem diff --interval ...`?');
      return summary(ctx, options);
    }
    throw new UsageError(
      `mem: expected summary, diff, top or refs${action ? `, got ${JSON.stringify(action)}` : ''}`,
      'e.g. `mem summary --limit 20`',
    );
  },
};
