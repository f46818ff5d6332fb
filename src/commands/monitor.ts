// `monitor module [class] method [-nm <value>] [-c <seconds>] [-n <cycles>]` (as in
// Arthas): every cycle, calls, successes, failures, failure rate and cost statistics of
// one method. The agent counts on the calling thread and summarises on its own.
import { parseArgs, type OptionSpec } from './args.js';
import { NESTED_OPTION, clockTime, methodArgs, streamRequest, type ObserveStarted } from './observe-stream.js';
import type { ShellCommand } from './types.js';

const OPTIONS: OptionSpec[] = [
  NESTED_OPTION,
  {
    names: ['-c', '--cycle'],
    key: 'cycle',
    kind: 'float',
    default: 60,
    min: 0.1,
    metavar: '<seconds>',
    description: 'length of one cycle in seconds (default 60)',
  },
  {
    names: ['-n', '--limits'],
    key: 'cycles',
    kind: 'int',
    min: 1,
    metavar: '<value>',
    description: 'stop after this many cycles (default: until Ctrl-C)',
  },
];

interface Cycle {
  time: number;
  method: string;
  calls: number;
  success: number;
  failure: number;
  failure_rate: number;
  avg_ms: number | null;
  min_ms: number | null;
  max_ms: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
}

const COLUMNS: Array<[string, number, (c: Cycle) => string]> = [
  ['TIME', 12, (c) => clockTime(c.time)],
  ['TOTAL', 8, (c) => String(c.calls)],
  ['SUCCESS', 8, (c) => String(c.success)],
  ['FAIL', 6, (c) => String(c.failure)],
  ['FAIL-RATE', 9, (c) => `${(c.failure_rate * 100).toFixed(2)}%`],
  ['AVG(ms)', 10, (c) => num(c.avg_ms)],
  ['MIN(ms)', 10, (c) => num(c.min_ms)],
  ['MAX(ms)', 10, (c) => num(c.max_ms)],
  ['P50(ms)', 10, (c) => num(c.p50_ms)],
  ['P99(ms)', 10, (c) => num(c.p99_ms)],
];

function num(v: number | null): string {
  return v === null ? '-' : v.toFixed(3);
}

function row(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i][1]) : c.padStart(COLUMNS[i][1]))).join('  ');
}

export const monitorCommand: ShellCommand = {
  name: 'monitor',
  summary: 'Every cycle: calls, successes, failures, failure rate and average/min/max/p50/p99 cost of a method.',
  usage: 'monitor module [class] method [-nm <value>] [-c <seconds>] [-n <value>]',
  examples: [
    { command: 'monitor __main__ func -c 5', comment: 'statistics every 5 seconds until Ctrl-C' },
    { command: 'monitor app.views Handler get -c 10 -n 6', comment: 'a method, six cycles of 10 seconds' },
  ],
  options: OPTIONS,
  async run(ctx, words) {
    const { positionals, options: o } = parseArgs('monitor', words, OPTIONS);
    const args = { ...methodArgs('monitor', positionals, o), cycle: o.cycle, cycles: o.cycles };
    const end = await streamRequest<{ started: ObserveStarted & { cycle_s: number }; cycle: Cycle }>(ctx, 'monitor', args, (ev) => {
      if (ev.event === 'started') {
        const data = ev.data;
        ctx.out.record({ event: 'started', ...data });
        ctx.out.note(`monitoring ${data.method} (${data.file}:${data.line}) every ${data.cycle_s}s; Ctrl-C to stop`);
        ctx.out.line(row(COLUMNS.map((c) => c[0])));
      } else if (ev.event === 'cycle') {
        const c = ev.data;
        ctx.out.record({ event: 'cycle', ...c });
        ctx.out.line(row(COLUMNS.map((col) => col[2](c))));
      }
    });
    ctx.out.record({ event: 'end', ...end });
    ctx.out.note(`${end.cycles ?? 0} cycle(s) shown; hook removed`);
  },
};
