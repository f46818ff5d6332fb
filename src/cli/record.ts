// `spyglass record`: sample a running Python process (--pid) or a program launched
// under it (after --) and write a flame graph or another profile format.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../errors.js';
import { parsePid } from '../commands/args.js';
import { FORMATS, type Format } from '../formats/names.js';
import { stopSignal, writeStderr } from '../run-end.js';
import { savedElsewhere } from '../save-file.js';

export function parsePositive(what: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${what} must be a number above 0 (got '${v}')`);
    return n;
  };
}

/** --duration: seconds, or py-spy's "unlimited" (its default: until Ctrl-C or the target's exit) as Infinity. */
function parseDuration(v: string): number {
  return v.toLowerCase() === 'unlimited' ? Number.POSITIVE_INFINITY : parsePositive('--duration')(v);
}

/** --format, in any case (py-spy ignores it: `-f SpeedScope`). */
function formatOption(): Option {
  const choices = [...FORMATS, 'raw'];
  return new Option('-f, --format <format>', 'output format ("raw": collapsed, as py-spy calls it)')
    .choices(choices)
    .default('flamegraph')
    .argParser((v: string) => {
      const f = v.toLowerCase();
      if (!choices.includes(f)) throw new InvalidArgumentError(`Allowed choices are ${choices.join(', ')}.`);
      return f;
    });
}

export function registerRecord(program: Command): void {
  program
    .command('record')
    .summary('sample a Python process and write a flame graph (or speedscope, collapsed, pprof, chrometrace)')
    .description(
      'Sample the Python stacks of a running process many times a second, without pausing it or ' +
        'injecting anything, and write where the time goes. Ctrl-C, --duration or the target exiting ' +
        'ends the recording; the output is written in every case.',
    )
    .usage('[options] (--pid PID | -- python app.py [args...])')
    .option('-p, --pid <pid>', 'the process to profile', (v: string) => parsePid(v))
    // "raw" is py-spy's name for collapsed stacks
    .addOption(formatOption())
    .option(
      '-o, --output <file>',
      'file to write (default: flamegraph.html, profile.speedscope.json, profile.collapsed.txt, profile.pb.gz, trace.json in the current directory, numbered rather than overwritten: flamegraph-2.html; a flame graph ending in .svg is an SVG)',
    )
    .option('-r, --rate <hz>', 'samples per second', parsePositive('--rate'), 100)
    .option('-d, --duration <seconds>', 'stop after this many seconds (default: Ctrl-C or the target exiting)', parseDuration)
    // the short flags are py-spy's, so that its users' command lines work as they are
    .option('-i, --idle', 'include idle threads (waiting, sleeping, blocked in I/O)')
    .option('-g, --gil', 'only samples of threads holding the GIL')
    .option('-t, --threads', 'a root frame per thread')
    .option('-s, --subprocesses', 'also sample child Python processes (multiprocessing, gunicorn workers)')
    .option('--nolineno', 'ignore line numbers: one frame per function')
    .option('--full-filenames', 'whole paths in frame labels, not the short form (package/module.py)')
    .option('-F, --function', 'aggregate by function (its first line) rather than by the current line')
    .option('--blocking', 'pause the Python threads (ptrace) while reading each sample: exact, but slows the target')
    .option('--nonblocking', 'never pause the target (the default; accepted as py-spy spells it)')
    .option(
      '-n, --native',
      'merge native (C/C++) frames into each sample; pauses each sampled Python thread while its registers and stack are read (ptrace)',
    )
    .option('--native-all', 'like --native, and keep the interpreter frames between Python calls')
    .option('--capture', "launch mode: the program's output goes to a file, printed only if it fails (its stdin is /dev/null)")
    .option('--hideprogress', 'no live status line while recording')
    .argument('[command...]', 'a program to launch and profile from its start (after --)')
    .addHelpText(
      'after',
      `
Examples:
  spyglass record --pid 4242                         # flamegraph.html until Ctrl-C
  spyglass record -p 4242 -d 30 -o cpu.svg           # 30 s, interactive SVG flame graph
  spyglass record -p 4242 -f speedscope -r 250       # open at https://www.speedscope.app
  spyglass record -p 4242 -f pprof --subprocesses    # gunicorn master and its workers
  spyglass record -- python app.py --port 8000       # profile a program from its start
  spyglass record -p 4242 --native -d 10             # with C/C++ frames (blue; the interpreter's own green)`,
    )
    .action(async (command: string[], o: Record<string, unknown>) => {
      if (o.pid !== undefined && command.length) throw new UsageError('give either --pid or a command after --, not both');
      if (o.pid === undefined && !command.length)
        throw new UsageError('nothing to record', 'give --pid PID, or a command after --: spyglass record -- python app.py');
      if (o.blocking && o.nonblocking) throw new UsageError('give either --blocking or --nonblocking, not both');
      // loaded when the command runs, not when any command starts (BENCHMARKS.md#dump-start-up)
      const [{ recordProfile, summarizeRecording }, { LiveLine }] = await Promise.all([
        import('../record/record.js'),
        import('../record/status.js'),
      ]);
      // Ctrl-C ends the recording and writes the output (exit 130); a second one quits at once
      const stop = stopSignal();
      const live = o.hideprogress ? undefined : LiveLine.forStderr();
      try {
        const r = await recordProfile({
          pid: o.pid as number | undefined,
          command: command.length ? command : undefined,
          capture: !!o.capture,
          format: (o.format === 'raw' ? 'collapsed' : o.format) as Format,
          output: o.output as string | undefined,
          rate: o.rate as number,
          durationSec: Number.isFinite(o.duration) ? (o.duration as number) : undefined,
          idle: !!o.idle,
          gil: !!o.gil,
          threads: !!o.threads,
          subprocesses: !!o.subprocesses,
          nolineno: !!o.nolineno,
          fullFilenames: !!o.fullFilenames,
          function: !!o.function,
          blocking: !!o.blocking,
          native: o.nativeAll ? 'all' : !!o.native,
          signal: stop.signal,
          status: live,
        });
        writeStderr(summarizeRecording(r).join('\n') + '\n');
        if (r.exitCode !== undefined) process.exitCode = r.exitCode;
        const elsewhere = savedElsewhere(r, 'profile');
        if (elsewhere) throw elsewhere;
      } finally {
        stop.dispose();
      }
    });
}
