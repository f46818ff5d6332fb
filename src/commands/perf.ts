// `perf [pid] [-f <file>] [-r <rate>] [-d <duration>]`: the reference tool's flame graph
// command, on the engine of `spyglass record` (src/record/record.ts). It samples from
// outside like record does: nothing runs in the target, the agent is not involved, and
// any Python process can be named, the attached one by default.
import { homedir } from 'node:os';
import { UsageError } from '../errors.js';
import { recordProfile, summarizeRecording } from '../record/record.js';
import { LiveLine } from '../record/status.js';
import { savedElsewhere } from '../save-file.js';
import { parseArgs, parsePid, type OptionSpec } from './args.js';
import { type CommandModel, shellCommand } from './model.js';

const DEFAULT_FILE = 'flamegraph.svg';

const OPTIONS: OptionSpec[] = [
  {
    names: ['-f', '--filepath'],
    key: 'file',
    kind: 'string',
    metavar: '<value>',
    description: `flame graph file; .svg is an SVG image, any other name an HTML page (default ./${DEFAULT_FILE}, numbered rather than overwritten: flamegraph-2.svg)`,
  },
  {
    names: ['-r', '--rate'],
    key: 'rate',
    kind: 'int',
    default: 100,
    min: 1,
    max: 10000,
    metavar: '<value>',
    description: 'samples per second (default 100)',
  },
  {
    names: ['-d', '--duration'],
    key: 'duration',
    kind: 'float',
    metavar: '<value>',
    description: 'seconds to sample (default, or -1 and 0 as the reference takes them: until Ctrl-C)',
  },
  // the reference's spelling of the pid word
  { names: ['--pid'], key: 'pid', kind: 'string', metavar: '<pid>', description: 'the process to sample (instead of the pid word)' },
];

/** "~/x.svg" as a shell would read it: the shell's words are not expanded by any other shell. */
function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

export interface PerfRequest {
  pid: number;
  /** the flame graph's path (default: a numbered ./flamegraph.svg) */
  file?: string;
  rate: number;
  duration?: number;
}

/** What perf yields, as --json prints it: the recording written. */
export interface PerfResults {
  perf: {
    event: 'perf';
    pid: number;
    path: string;
    samples: number;
    thread_samples: number;
    seconds: number;
    errors: number;
    /** dropped samples by why */
    error_kinds: Record<string, number>;
    behind: number;
    target_exited: boolean;
    not_written?: unknown;
  };
}

export const perfModel: CommandModel<PerfRequest, PerfResults> = {
  name: 'perf',
  summary: 'sample the process (or another one) and write a flame graph of where its time goes',
  description:
    'How: the Python stacks are read from OUTSIDE the process through /proc/PID/mem at randomized instants ' +
    '(the same engine as `spyglass record`); the target is never paused and nothing runs inside it. Idle threads ' +
    '(sleeping, waiting for I/O or a lock) are left out. Ctrl-C or the end of -d writes the file; so does the ' +
    'target exiting. For other formats (speedscope, pprof, collapsed, chrometrace) and options, use `spyglass record`.',
  usage: 'perf [pid] [-f <value>] [-r <value>] [-d <value>]',
  examples: [
    { command: 'perf', comment: 'until Ctrl-C, into ./flamegraph.svg (flamegraph-2.svg if that exists)' },
    { command: 'perf -f ~/flamegraph.svg', comment: 'into ~/flamegraph.svg (replaced if it exists)' },
    { command: 'perf -d 30 -f ~/flamegraph.html', comment: '30 seconds, as an HTML page' },
    { command: 'perf 4243 -r 1000 -d 5', comment: 'another process, 1000 samples a second, 5 seconds' },
  ],
  options: OPTIONS,
  runsIn: 'outside',
  parse(words, at) {
    const { positionals, options } = parseArgs('perf', words, OPTIONS);
    const pids = [...positionals, ...(options.pid !== undefined ? [options.pid as string] : [])];
    if (pids.length > 1) throw new UsageError(`perf: at most one pid, got ${pids.join(' ')}`);
    const pid = pids.length ? parsePid(pids[0], 'perf: ', 'perf [pid] [-f <file>] [-r <rate>] [-d <seconds>]') : at.pid;
    const file = options.file as string | undefined;
    const duration = options.duration as number | undefined;
    return {
      pid,
      file: file === undefined ? undefined : expandHome(file),
      rate: options.rate as number,
      // the reference's default is -1, "unlimited"; 0 reads the same
      duration: duration !== undefined && duration > 0 ? duration : undefined,
    };
  },
  async *execute(ctx, req) {
    yield {
      progress: `perf: sampling process ${req.pid} at ${req.rate} Hz${req.duration ? ` for ${req.duration} s` : ''}; Ctrl-C writes the flame graph`,
    };
    const r = await recordProfile({
      pid: req.pid,
      format: 'flamegraph',
      output: req.file,
      defaultOutput: DEFAULT_FILE,
      cwd: ctx.cwd,
      rate: req.rate,
      durationSec: req.duration,
      signal: ctx.signal,
      status: ctx.terminal ? LiveLine.forStderr() : undefined,
    });
    yield {
      kind: 'perf',
      data: {
        event: 'perf',
        pid: r.pid,
        path: r.path,
        samples: r.stats.ticks,
        thread_samples: r.stats.samples,
        seconds: Number(r.stats.elapsed.toFixed(3)),
        errors: r.stats.errors,
        error_kinds: Object.fromEntries(r.stats.errorKinds),
        behind: r.stats.behind,
        target_exited: r.stats.targetExited,
        ...(r.notWritten ? { not_written: r.notWritten } : {}),
      },
    };
    const elsewhere = savedElsewhere(r, 'flame graph');
    if (elsewhere) throw elsewhere;
  },
  textView(_req, out) {
    return ({ data: p }) => {
      const stats = {
        ticks: p.samples,
        samples: p.thread_samples,
        elapsed: p.seconds,
        errors: p.errors,
        errorKinds: new Map(Object.entries(p.error_kinds)),
        behind: p.behind,
        targetExited: p.target_exited,
        processes: 1,
        // perf reads Python frames only: no source of it has notes (the native layer's)
        notes: new Set<string>(),
      };
      // the reference tool's words first, which scripts look for
      out.line(`Flamegraph data has been successfully written to ${p.path}`);
      for (const l of summarizeRecording({ path: p.path, format: 'flamegraph', pid: p.pid, stats })) out.line(l);
    };
  },
};

export const perfCommand = shellCommand(perfModel);
