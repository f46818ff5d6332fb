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
import type { ShellCommand } from './types.js';

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
    min: 0.001,
    metavar: '<value>',
    description: 'seconds to sample (default: until Ctrl-C)',
  },
];

/** "~/x.svg" as a shell would read it: the shell's words are not expanded by any other shell. */
function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

export const perfCommand: ShellCommand = {
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
  async run(ctx, words) {
    const { positionals, options } = parseArgs('perf', words, OPTIONS);
    if (positionals.length > 1) throw new UsageError(`perf: at most one pid, got ${positionals.join(' ')}`);
    const pid = positionals.length ? parsePid(positionals[0], 'perf: ', 'perf [pid] [-f <file>] [-r <rate>] [-d <seconds>]') : ctx.pid;
    const file = options.file as string | undefined;
    const duration = options.duration as number | undefined;
    ctx.out.note(
      `perf: sampling process ${pid} at ${options.rate} Hz${duration ? ` for ${duration} s` : ''}; Ctrl-C writes the flame graph`,
    );
    const r = await recordProfile({
      pid,
      format: 'flamegraph',
      output: file === undefined ? undefined : expandHome(file),
      defaultOutput: DEFAULT_FILE,
      cwd: ctx.cwd,
      rate: options.rate as number,
      durationSec: duration,
      signal: ctx.signal,
      status: ctx.out.json ? undefined : LiveLine.forStderr(),
    });
    for (const l of summarizeRecording(r)) ctx.out.line(l);
    ctx.out.record({
      event: 'perf',
      pid: r.pid,
      path: r.path,
      samples: r.stats.ticks,
      thread_samples: r.stats.samples,
      seconds: Number(r.stats.elapsed.toFixed(3)),
      errors: r.stats.errors,
      behind: r.stats.behind,
      target_exited: r.stats.targetExited,
      ...(r.notWritten ? { not_written: r.notWritten } : {}),
    });
    const elsewhere = savedElsewhere(r, 'flame graph');
    if (elsewhere) throw elsewhere;
  },
};
