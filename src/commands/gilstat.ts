// `gilstat on [TAKE_MS HOLD_MS]` / `gilstat off`: GIL contention per thread, read from
// outside the process (src/gil/). Tables every few seconds with the reference tool's
// fields; with thresholds, one report per long hold or long wait, with the thread's
// Python stack at that moment.
import { UsageError, UserError } from '../errors.js';
import { parseArgs, type OptionSpec } from './args.js';
import type { CommandContext, CommandOutput, ShellCommand } from './types.js';
import type { GilReport, GilTable, GilThreadRow } from '../gil/messages.js';
import { stopElsewhere } from '../gil/owners.js';
import { DEFAULT_RATE_HZ, GilstatSession } from '../gil/session.js';

const OPTIONS: OptionSpec[] = [
  { names: ['-i', '--interval'], key: 'interval', kind: 'float', default: 5, min: 0.5, max: 3600, metavar: '<seconds>', description: 'seconds between two tables (default 5)' },
  { names: ['-r', '--rate'], key: 'rate', kind: 'int', default: DEFAULT_RATE_HZ, min: 100, max: 10000, metavar: '<hz>', description: `samples per second (default ${DEFAULT_RATE_HZ})` },
];

const COLUMNS: Array<keyof GilThreadRow> = ['takecnt', 'hold_all', 'holdavg', 'take_all', 'takeavg', 'dropcnt', 'drop_all', 'dropavg'];

const HOW =
  'How: the GIL is sampled from OUTSIDE the process, nothing is injected and no GIL switch is hooked: ' +
  'about 2000 times a second spyglass reads the interpreter\'s GIL struct (holder, locked flag, switch counter) ' +
  'through /proc/PID/mem and, while threads sleep on the GIL\'s condition variable, each thread\'s ' +
  '/proc/PID/task/TID/syscall (a thread blocked in futex() on the GIL is waiting to take it). Consecutive ' +
  'samples become hold and wait intervals per thread. The figures are therefore ESTIMATES: shares of time are ' +
  'accurate to a few percent over seconds, episodes shorter than the sampling period (0.5 ms) can be missed, ' +
  'and counts are the episodes seen; the total of GIL switches comes exactly from the interpreter\'s own counter, ' +
  'and the header states the hold times\' error bound: the time between two samples across which the GIL changed hands ' +
  '(small normally; large when the machine is so busy that the sampler is not scheduled). ' +
  'The target is not measurably slowed (BENCHMARKS.md, "gilstat"); the sampler itself uses about 15% of one core in the spyglass process.';

function fmtNs(n: number): string {
  return String(Math.round(n));
}

function pct(part: number, whole: number): string {
  return whole ? ((100 * part) / whole).toFixed(1) : '0.0';
}

function pad(s: string, w: number, left = false): string {
  return left ? s.padEnd(w) : s.padStart(w);
}

export function renderTable(t: GilTable, pid: number, version: string): string[] {
  const span = Number(BigInt(t.window.end_ns) - BigInt(t.window.start_ns));
  const lines = [
    `gilstat ${pid} (Python ${version}): ${(span / 1e9).toFixed(1)} s, ${t.samples} samples at ~${t.rate_hz} Hz ` +
      `(ESTIMATES from sampling; times in ns); GIL switches: ${t.switches} (exact), GIL free ${pct(t.free_ns, span)}%; ` +
      `hold times within ±${pct(t.uncertain_ns, span)}% (time between samples across which the GIL changed hands)`,
  ];
  const rows = [...t.threads].sort((a, b) => b.hold_all - a.hold_all);
  const nameW = Math.max(11, ...rows.map((r) => r.thread_name.length + 2));
  const head = [pad('thread_name', nameW, true), ...COLUMNS.map((c) => pad(c, 13)), pad('hold%', 7)];
  lines.push(head.join(''));
  for (const r of rows) {
    lines.push(
      [pad(r.thread_name, nameW, true), ...COLUMNS.map((c) => pad(fmtNs(r[c] as number), 13)), pad(pct(r.hold_all, span), 7)].join(''),
    );
  }
  return lines;
}

export function renderReport(r: GilReport): string[] {
  const what = r.kind === 'hold' ? 'held the GIL' : 'waited for the GIL';
  const lines = [`[gilstat] thread '${r.thread_name}' (tid ${r.tid ?? '?'}) ${what} for ${(r.duration_ns / 1e6).toFixed(1)} ms`];
  if (r.stack.length) {
    lines.push(`  its Python stack then (innermost first):`);
    for (const f of r.stack) lines.push(`    ${f.name} (${f.filename}:${f.line})`);
  } else lines.push(`  (no stack: ${r.stack_missing ?? 'not read'})`);
  return lines;
}

function thresholds(words: string[]): { takeMs?: number; holdMs?: number } {
  const nums = words.map((w) => {
    const n = Number(w);
    if (!/^\d+(\.\d+)?$/.test(w) || !Number.isFinite(n)) throw new UsageError(`gilstat on: TAKE_MS and HOLD_MS are milliseconds, got ${JSON.stringify(w)}`, 'e.g. `gilstat on 10 10`');
    return n;
  });
  if (nums.length > 2) throw new UsageError('gilstat on: at most two numbers: TAKE_MS HOLD_MS', 'e.g. `gilstat on 10 10`');
  if (nums.length === 0) return {};
  return { takeMs: nums[0], holdMs: nums[1] ?? nums[0] };
}

async function on(ctx: CommandContext, words: string[], interval: number, rate: number): Promise<void> {
  const { takeMs, holdMs } = thresholds(words);
  const out: CommandOutput = ctx.out;
  const session = await GilstatSession.start(ctx.pid, { takeMs, holdMs, rateHz: rate, reportEveryMs: Math.round(interval * 1000) });
  const stop = () => void session.stop();
  ctx.signal.addEventListener('abort', stop, { once: true });
  let version = '?';
  try {
    for await (const m of session) {
      if (m.type === 'error') {
        if (m.user) throw new UserError(m.message, m.hint);
        throw new Error(`gilstat sampler failed: ${m.message}\n${m.stack ?? ''}`);
      }
      out.record({ event: m.type, ...m, type: undefined });
      if (m.type === 'started') {
        version = m.version;
        out.note(
          `gilstat on: sampling the GIL of ${ctx.pid} from outside at ${m.rate_hz} Hz; a table every ${interval} s` +
            (takeMs !== undefined ? `, reports of waits > ${takeMs} ms and holds > ${holdMs} ms` : '') +
            '. Ctrl-C or `gilstat off` ends it.',
        );
      } else if (m.type === 'table') {
        for (const l of renderTable(m, ctx.pid, version)) out.line(l);
        out.line('');
      } else if (m.type === 'report') {
        for (const l of renderReport(m)) out.line(l);
      }
    }
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    await session.stop();
  }
  out.note('gilstat off');
}

export const gilstatCommand: ShellCommand = {
  name: 'gilstat',
  summary: 'GIL contention per thread: hold / wait times, long holds and waits with the Python stack',
  usage: 'gilstat on [TAKE_MS [HOLD_MS]] [-i <seconds>] [-r <hz>] | gilstat off',
  examples: [
    { command: 'gilstat on', comment: 'every 5 s, per thread: takecnt, hold_all, holdavg, take_all, takeavg, dropcnt, drop_all, dropavg (ns)' },
    { command: 'gilstat on 10 10', comment: 'also report every wait for the GIL > 10 ms and every hold > 10 ms, with the thread\'s stack' },
    { command: 'gilstat off', comment: 'stop it, here or in another spyglass shell of yours (Ctrl-C does too)' },
  ],
  options: OPTIONS,
  description: HOW,
  async run(ctx, words) {
    const { positionals, options } = parseArgs('gilstat', words, OPTIONS);
    const [action, ...rest] = positionals;
    if (action === 'on') return on(ctx, rest, options.interval as number, options.rate as number);
    if (action === 'off') {
      if (rest.length) throw new UsageError('gilstat off takes no arguments');
      const s = GilstatSession.get(ctx.pid);
      if (s) {
        await s.stop();
        ctx.out.line('gilstat off');
        ctx.out.record({ event: 'off', was_on: true });
        return;
      }
      const owner = stopElsewhere(ctx.pid);
      if (owner !== undefined) {
        ctx.out.line(`gilstat off (it ran in spyglass process ${owner})`);
        ctx.out.record({ event: 'off', was_on: true, owner });
        return;
      }
      ctx.out.note('gilstat is not on');
      ctx.out.record({ event: 'off', was_on: false });
      return;
    }
    throw new UsageError(`gilstat: expected \`on\` or \`off\`${action ? `, got ${JSON.stringify(action)}` : ''}`, 'e.g. `gilstat on 10 10`, `gilstat off`');
  },
};
