// `gilstat on [take_ms] [hold_ms] [interval_s] [max_threads]` / `gilstat off`: GIL
// contention per thread, read from outside the process (src/gil/). A table every
// interval with the reference tool's columns (time, thread_id, thread_name, takecnt...),
// at most max_threads rows; each wait or hold over its threshold as a row of the
// reference's long-event table, followed by the Python stack of the thread holding the
// GIL then (which the reference does not show).
import { UsageError, UserError } from '../errors.js';
import { parseArgs, type OptionSpec } from './args.js';
import { type CommandModel, type ExecuteContext, type StepOf, shellCommand } from './model.js';
import type { GilReport, GilTable, GilThreadRow } from '../gil/messages.js';
import { stopElsewhere } from '../gil/owners.js';
import { DEFAULT_RATE_HZ, GilstatSession } from '../gil/session.js';

/** The reference's defaults: take_ms, hold_ms, interval_s, max_threads. */
const DEFAULTS = { takeMs: 10, holdMs: 10, interval: 5, maxThreads: 500 };

const OPTIONS: OptionSpec[] = [
  {
    names: ['-i', '--interval'],
    key: 'interval',
    kind: 'float',
    min: 0.5,
    max: 3600,
    metavar: '<seconds>',
    description: 'seconds between two tables, as interval_s (default 5)',
  },
  {
    names: ['-r', '--rate'],
    key: 'rate',
    kind: 'int',
    default: DEFAULT_RATE_HZ,
    min: 100,
    max: 10000,
    metavar: '<hz>',
    description: `samples per second (default ${DEFAULT_RATE_HZ})`,
  },
];

const COLUMNS: Array<keyof GilThreadRow> = ['takecnt', 'hold_all', 'holdavg', 'take_all', 'takeavg', 'dropcnt', 'drop_all', 'dropavg'];

const HOW =
  'How: the GIL is sampled from OUTSIDE the process, nothing is injected and no GIL switch is hooked: ' +
  "about 2000 times a second spyglass reads the interpreter's GIL struct (holder, locked flag, switch counter) " +
  "through /proc/PID/mem and, while threads sleep on the GIL's condition variable, each thread's " +
  '/proc/PID/task/TID/syscall (a thread blocked in futex() on the GIL is waiting to take it). Consecutive ' +
  'samples become hold and wait intervals per thread. The figures are therefore ESTIMATES: shares of time are ' +
  'accurate to a few percent over seconds, episodes shorter than the sampling period (0.5 ms) can be missed, ' +
  "and counts are the episodes seen; the total of GIL switches comes exactly from the interpreter's own counter, " +
  "and the header states the hold times' error bound: the time between two samples across which the GIL changed hands " +
  '(small normally; large when the machine is so busy that the sampler is not scheduled). ' +
  'The target is not measurably slowed (BENCHMARKS.md, "gilstat"); the sampler itself uses about 15% of one core in the spyglass process.';

function fmtNs(n: number): string {
  return String(Math.round(n));
}

function pct(part: number, whole: number): string {
  return whole ? ((100 * part) / whole).toFixed(1) : '0.0';
}

/** s in a column of w characters; one that does not fit still ends with a space before the next column. */
function pad(s: string, w: number, left = false): string {
  if (s.length >= w) return left ? `${s} ` : ` ${s}`;
  return left ? s.padEnd(w) : s.padStart(w);
}

/** `2026-12-01 21:40:00.123`: the reference's `time` column (local time, ms). */
function wallTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** The reference's thread_id: the thread's pthread id (threading.get_ident()) in hex. */
function threadId(ident: string): string {
  return /^\d+$/.test(ident) ? BigInt(ident).toString(16) : ident;
}

/** The busiest max_threads rows (by hold_all), and how many were left out. */
export function busiest(t: GilTable, maxThreads: number): { rows: GilThreadRow[]; omitted: number } {
  const rows = [...t.threads].sort((a, b) => b.hold_all - a.hold_all);
  return { rows: rows.slice(0, maxThreads), omitted: Math.max(0, rows.length - maxThreads) };
}

/** The table as text: `t.threads` are the rows shown (the busiest), `omitted` how many more were left out. */
export function renderTable(t: Omit<GilTable, 'type'>, pid: number, version: string, omitted: number, maxThreads: number): string[] {
  const span = Number(BigInt(t.window.end_ns) - BigInt(t.window.start_ns));
  const lines = [
    `gilstat ${pid} (Python ${version}): ${(span / 1e9).toFixed(1)} s, ${t.samples} samples at ~${t.rate_hz} Hz ` +
      `(ESTIMATES from sampling; times in ns); GIL switches: ${t.switches} (exact), GIL free ${pct(t.free_ns, span)}%; ` +
      `hold times within ±${pct(t.uncertain_ns, span)}% (time between samples across which the GIL changed hands)`,
  ];
  const rows = t.threads;
  const nameW = Math.max(13, ...rows.map((r) => r.thread_name.length + 2));
  const idW = Math.max(11, ...rows.map((r) => threadId(r.ident).length + 2));
  const time = wallTime(t.time_ms);
  const head = [
    pad('time', 25, true),
    pad('thread_id', idW, true),
    pad('thread_name', nameW, true),
    ...COLUMNS.map((c) => pad(c, 13)),
    pad('hold%', 7),
  ];
  lines.push(head.join(''));
  for (const r of rows) {
    lines.push(
      [
        pad(time, 25, true),
        pad(threadId(r.ident), idW, true),
        pad(r.thread_name, nameW, true),
        ...COLUMNS.map((c) => pad(fmtNs(r[c] as number), 13)),
        pad(pct(r.hold_all, span), 7),
      ].join(''),
    );
  }
  if (omitted) lines.push(`(${omitted} more thread${omitted === 1 ? '' : 's'} not shown: max_threads ${maxThreads})`);
  return lines;
}

const EVENT_HEADER = [
  pad('time', 25, true),
  pad('thread_id', 16, true),
  pad('thread_name', 24, true),
  pad('event', 10, true),
  pad('cost(ns)', 14, true),
  pad('threshold(ns)', 15, true),
  pad('start(ns)', 22, true),
  'end(ns)',
].join('');

/** One long wait or hold: a row of the reference's long-event table, then the Python stack of the GIL's holder then. */
export function renderReport(r: Omit<GilReport, 'type'>, withHeader: boolean): string[] {
  const end = BigInt(r.start_ns) + BigInt(r.duration_ns);
  const row = [
    pad(wallTime(r.time_ms), 25, true),
    pad(threadId(r.ident), 16, true),
    pad(r.thread_name, 24, true),
    pad(r.kind === 'hold' ? 'hold_gil' : 'take_gil', 10, true),
    pad(String(r.duration_ns), 14, true),
    pad(String(r.threshold_ns), 15, true),
    pad(r.start_ns, 22, true),
    end.toString(),
  ].join('');
  const lines = withHeader ? [EVENT_HEADER, row] : [row];
  const frames = (stack: GilReport['stack']) => stack.map((f) => `    ${f.name} (${f.filename}:${f.line})`);
  // a long hold: the thread itself; a long wait: the thread it waited for, else its own place
  const who = r.kind === 'take' && r.holder ? r.holder : { thread_name: r.thread_name, tid: r.tid, stack: r.stack };
  const role =
    r.kind === 'take' && r.holder
      ? `the holder while '${r.thread_name}' waited`
      : r.kind === 'hold'
        ? 'the holder'
        : 'the waiter (the GIL was changing hands)';
  if (who.stack.length)
    lines.push(`  stack of '${who.thread_name}' (tid ${who.tid ?? '?'}, ${role}), innermost first:`, ...frames(who.stack));
  else
    lines.push(
      `  (no stack of '${who.thread_name}': ${(who === r.holder ? undefined : r.stack_missing) ?? 'its frames changed during the read'})`,
    );
  return lines;
}

interface OnArgs {
  takeMs: number;
  holdMs: number;
  interval: number;
  maxThreads: number;
}

/** `on [take_ms] [hold_ms] [interval_s] [max_threads]`, as the reference reads them. */
function onArgs(words: string[], intervalOption: number | undefined): OnArgs {
  const names = ['take_ms', 'hold_ms', 'interval_s', 'max_threads'];
  if (words.length > names.length)
    throw new UsageError(`gilstat on: at most four numbers: ${names.join(' ')} (got ${words.length})`, 'e.g. `gilstat on 10 10 5 500`');
  const nums = words.map((w, i) => {
    const n = Number(w);
    const integer = i === 3;
    if (!(integer ? /^\d+$/ : /^\d+(\.\d+)?$/).test(w) || !(n > 0)) {
      throw new UsageError(
        `gilstat on: ${names[i]} must be a ${integer ? 'whole number' : 'number'} above 0, got ${JSON.stringify(w)}`,
        'e.g. `gilstat on 10 10 5 500`',
      );
    }
    return n;
  });
  if (nums[2] !== undefined && intervalOption !== undefined)
    throw new UsageError('gilstat on: the interval is given twice (interval_s and -i)');
  const interval = nums[2] ?? intervalOption ?? DEFAULTS.interval;
  if (interval < 0.5 || interval > 3600) throw new UsageError(`gilstat on: interval_s must be between 0.5 and 3600 (got ${interval})`);
  return { takeMs: nums[0] ?? DEFAULTS.takeMs, holdMs: nums[1] ?? DEFAULTS.holdMs, interval, maxThreads: nums[3] ?? DEFAULTS.maxThreads };
}

export type GilstatRequest = ({ action: 'on'; pid: number; rate: number } & OnArgs) | { action: 'off' };

type Omitted<T> = Omit<T, 'type'> & { type: undefined };

/** What gilstat yields, each as --json prints it. */
export interface GilstatResults {
  started: { event: 'started'; version: string; gil: string; rate_hz: number; type: undefined };
  /** the busiest max_threads threads of the interval, and how many more there were */
  table: { event: 'table'; threads_omitted: number } & Omitted<GilTable>;
  report: { event: 'report' } & Omitted<GilReport>;
  off: { event: 'off'; was_on: boolean; owner?: number };
}

async function* on(ctx: ExecuteContext, req: Extract<GilstatRequest, { action: 'on' }>): AsyncGenerator<StepOf<GilstatResults>> {
  const { takeMs, holdMs, interval, maxThreads, rate } = req;
  const session = await GilstatSession.start(ctx.pid, { takeMs, holdMs, rateHz: rate, reportEveryMs: Math.round(interval * 1000) });
  const stop = () => void session.stop();
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const m of session) {
      if (m.type === 'error') {
        if (m.user) throw new UserError(m.message, m.hint);
        throw new Error(`gilstat sampler failed: ${m.message}\n${m.stack ?? ''}`);
      }
      if (m.type === 'table') {
        const { rows, omitted } = busiest(m, maxThreads);
        yield { kind: 'table', data: { event: 'table', ...m, type: undefined, threads: rows, threads_omitted: omitted } };
      } else if (m.type === 'report') yield { kind: 'report', data: { event: 'report', ...m, type: undefined } };
      else yield { kind: 'started', data: { event: 'started', ...m, type: undefined } };
    }
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    await session.stop();
  }
  yield { progress: 'gilstat off' };
}

export const gilstatModel: CommandModel<GilstatRequest, GilstatResults> = {
  name: 'gilstat',
  summary: 'GIL contention per thread: hold / wait times, long holds and waits with the Python stack',
  usage: 'gilstat on [take_ms] [hold_ms] [interval_s] [max_threads] [-r <hz>] | gilstat off',
  examples: [
    {
      command: 'gilstat on',
      comment:
        "every 5 s, per thread: time, thread_id, thread_name, takecnt, hold_all, holdavg, take_all, takeavg, dropcnt, drop_all, dropavg (ns); waits and holds > 10 ms with the holder's stack",
    },
    { command: 'gilstat on 5 5', comment: 'report every wait for the GIL > 5 ms and every hold > 5 ms' },
    { command: 'gilstat on 5 5 1 2', comment: 'the same, a table every second of the 2 busiest threads' },
    { command: 'gilstat off', comment: 'stop it, here or in another spyglass shell of yours (Ctrl-C does too)' },
  ],
  options: OPTIONS,
  description: HOW,
  runsIn: 'outside',
  parse(words, at) {
    const { positionals, options } = parseArgs('gilstat', words, OPTIONS);
    const [action, ...rest] = positionals;
    if (action === 'on')
      return { action, pid: at.pid, ...onArgs(rest, options.interval as number | undefined), rate: options.rate as number };
    if (action === 'off') {
      if (rest.length) throw new UsageError('gilstat off takes no arguments');
      return { action };
    }
    throw new UsageError(
      `gilstat: expected \`on\` or \`off\`${action ? `, got ${JSON.stringify(action)}` : ''}`,
      'e.g. `gilstat on 10 10`, `gilstat off`',
    );
  },
  async *execute(ctx, req) {
    if (req.action === 'on') {
      yield* on(ctx, req);
      return;
    }
    const s = GilstatSession.get(ctx.pid);
    if (s) {
      await s.stop();
      yield { kind: 'off', data: { event: 'off', was_on: true } };
      return;
    }
    const owner = stopElsewhere(ctx.pid);
    if (owner !== undefined) yield { kind: 'off', data: { event: 'off', was_on: true, owner } };
    else yield { kind: 'off', data: { event: 'off', was_on: false } };
  },
  textView(req, out) {
    let version = '?';
    // consecutive long events share one header, as in the reference's report
    let eventRows = 0;
    return (step) => {
      if (step.kind === 'off') {
        const { was_on, owner } = step.data;
        if (!was_on) out.note('gilstat is not on');
        else out.line(owner !== undefined ? `gilstat off (it ran in spyglass process ${owner})` : 'gilstat off');
        return;
      }
      if (req.action !== 'on') return;
      if (step.kind === 'started') {
        version = step.data.version;
        out.note(
          `gilstat on: sampling the GIL of ${req.pid} from outside at ${step.data.rate_hz} Hz; a table of at most ${req.maxThreads} threads every ${req.interval} s, ` +
            `long waits (> ${req.takeMs} ms) and holds (> ${req.holdMs} ms) with the holder's stack. Ctrl-C or \`gilstat off\` ends it.`,
        );
      } else if (step.kind === 'table') {
        if (eventRows) out.line('');
        eventRows = 0;
        // the reference tool's headings, which scripts look for
        out.line('gil statistics report:');
        for (const l of renderTable(step.data, req.pid, version, step.data.threads_omitted, req.maxThreads)) out.line(l);
        out.line('');
      } else if (step.kind === 'report') {
        if (eventRows === 0) out.line('gil warning report:');
        for (const l of renderReport(step.data, eventRows++ === 0)) out.line(l);
      }
    };
  },
};

export const gilstatCommand = shellCommand(gilstatModel);
