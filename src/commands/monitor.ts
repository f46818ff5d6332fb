// `monitor module [class] method [-nm <value>] [-c <seconds>] [-n <cycles>]` (as in
// Arthas): every cycle, calls, successes, failures, failure rate and cost statistics of
// one method. The agent counts on the calling thread and summarises on its own.
import { parseArgs, type OptionSpec } from './args.js';
import { agentEvents, type CommandModel, shellCommand } from './model.js';
import { LOCATION_OPTIONS, NESTED_OPTION, type MethodTarget, type ObserveStarted, clockTime, methodArgs } from './observe-stream.js';

const OPTIONS: OptionSpec[] = [
  ...LOCATION_OPTIONS,
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

/** One cycle's statistics. */
export interface Cycle {
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

interface MonitorEnd {
  cycles?: number;
  [more: string]: unknown;
}

/** What monitor yields, each as --json prints it. */
export interface MonitorResults {
  started: { event: 'started' } & ObserveStarted & { cycle_s: number };
  cycle: { event: 'cycle' } & Cycle;
  end: { event: 'end' } & MonitorEnd;
}

/** The agent's arguments: the method, the cycle's length and how many. */
export interface MonitorRequest extends MethodTarget {
  cycle: number;
  cycles?: number;
}

export const monitorModel: CommandModel<MonitorRequest, MonitorResults> = {
  name: 'monitor',
  summary: 'Every cycle: calls, successes, failures, failure rate and average/min/max/p50/p99 cost of a method.',
  usage: 'monitor module [class] method [-nm <value>] [-c <seconds>] [-n <value>]',
  examples: [
    { command: 'monitor __main__ func -c 5', comment: 'statistics every 5 seconds until Ctrl-C' },
    { command: 'monitor app.views Handler get -c 10 -n 6', comment: 'a method, six cycles of 10 seconds' },
  ],
  options: OPTIONS,
  runsIn: 'agent',
  parse(words) {
    const { positionals, options: o } = parseArgs('monitor', words, OPTIONS);
    return { ...methodArgs('monitor', positionals, o), cycle: o.cycle as number, cycles: o.cycles as number | undefined };
  },
  async *execute(ctx, req) {
    type Events = { started: ObserveStarted & { cycle_s: number }; cycle: Cycle };
    for await (const ev of agentEvents<Events, MonitorEnd>(ctx, 'monitor', { ...req })) {
      if (ev.event === 'started') yield { kind: 'started', data: { event: 'started', ...ev.data } };
      else if (ev.event === 'cycle') yield { kind: 'cycle', data: { event: 'cycle', ...ev.data } };
      else if (ev.event === 'end') yield { kind: 'end', data: { event: 'end', ...ev.data } };
    }
  },
  textView(_req, out) {
    return (step) => {
      if (step.kind === 'started') {
        const data = step.data;
        out.note(`monitoring ${data.method} (${data.file}:${data.line}) every ${data.cycle_s}s; Ctrl-C to stop`);
        out.line(row(COLUMNS.map((c) => c[0])));
      } else if (step.kind === 'cycle') {
        const c = step.data;
        out.line(row(COLUMNS.map((col) => col[2](c))));
      } else out.note(`${step.data.cycles ?? 0} cycle(s) shown; hook removed`);
    };
  },
};

export const monitorCommand = shellCommand(monitorModel);
