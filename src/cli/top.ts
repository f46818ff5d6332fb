// `spyglass top PID`: a live view of where a Python process spends its time, like
// py-spy top / Unix top. Redrawn every second in the terminal's alternate screen;
// keys 1-4 pick the sort column, q (or Ctrl-C) quits. No UI library: ANSI escapes and
// node:readline's keypress events in raw mode.
import { emitKeypressEvents } from 'node:readline';
import type { Command } from 'commander';
import { parsePid, pidFromArgOrOption } from '../commands/args.js';
import { UsageError, UserError } from '../errors.js';
import { processInfo } from '../proc/process.js';
import { markInterrupted, stopSignal } from '../run-end.js';
import { cachedShortener } from '../sampler/filenames.js';
import { byColumn, SORT_KEYS, TopStats, type FunctionRow, type SortKey, type WindowSummary } from '../sampler/top-stats.js';
import { parsePositive } from './record.js';

const COLUMNS: Array<{ key: SortKey; title: string }> = [
  { key: 'ownPct', title: '%Own' },
  { key: 'totalPct', title: '%Total' },
  { key: 'ownTime', title: 'OwnTime' },
  { key: 'totalTime', title: 'TotalTime' },
];

export interface TopScreen {
  pid: number;
  cmdline: string;
  rate: number;
  summary: WindowSummary;
  samples: number;
  errors: number;
  rows: FunctionRow[];
  sort: SortKey;
  width: number;
  height: number;
  ended?: string;
}

/** The lines of one screen, each at most `width` characters. */
export function renderTop(s: TopScreen): string[] {
  const errPct = s.samples ? (100 * s.errors) / (s.samples + s.errors) : 0;
  const lines = [
    `spyglass top · pid ${s.pid} · ${s.cmdline}`,
    `Samples: ${s.samples}  Errors: ${s.errors} (${errPct.toFixed(1)}%)  Threads: ${s.summary.threads}  ` +
      `GIL: ${s.summary.gilPct.toFixed(1)}%  Active: ${s.summary.activePct.toFixed(1)}%  Rate: ${s.rate} Hz`,
    s.ended ?? 'Keys: 1-4 sort by column · q quit',
    '',
    COLUMNS.map((c) => (c.key === s.sort ? `[${c.title}]` : ` ${c.title} `).padStart(11)).join('') + '  Function (file)',
  ];
  const pct = (v: number) => `${v.toFixed(1)}%`.padStart(11);
  const time = (v: number) => `${v.toFixed(2)}s`.padStart(11);
  for (const r of s.rows.slice(0, Math.max(0, s.height - lines.length - 1))) {
    lines.push(`${pct(r.ownPct)}${pct(r.totalPct)}${time(r.ownTime)}${time(r.totalTime)}  ${r.name} (${r.file})`);
  }
  return lines.map((l) => (l.length > s.width ? l.slice(0, s.width) : l));
}

interface TopOptions {
  pid?: number;
  rate: number;
  delay: number;
  idle?: boolean;
  gil?: boolean;
  native?: boolean;
  subprocesses?: boolean;
  fullFilenames?: boolean;
}

/** The pid of `top PID` or `top --pid PID`, or the program of `top -- python app.py`. */
function target(args: string[], o: TopOptions): { pid?: number; command?: string[] } {
  // a lone number is a pid (`top 4242`); a command is given after -- (`top -- python app.py`)
  const lonePid = args.length === 1 && /^\d+$/.test(args[0]);
  if (!lonePid && args.length) {
    if (o.pid !== undefined) throw new UsageError('give either --pid or a command after --, not both');
    return { command: args };
  }
  return { pid: pidFromArgOrOption('top', lonePid ? parsePid(args[0]) : undefined, o.pid) };
}

export function registerTop(program: Command): void {
  program
    .command('top')
    .summary('live view of the functions a Python process spends its time in (like top)')
    .description(
      'Sample a running Python process (or a program launched under it, after --) and show, refreshed every second (--delay), the functions it spends its time in, with GIL and activity shares. Keys: 1-4 sort by column, q quits.',
    )
    .usage('[options] (PID | --pid PID | -- python app.py [args...])')
    .argument(
      '[pid-or-command...]',
      'the process to watch, or a program to launch and watch (after --; its output is kept and shown if it fails)',
    )
    // py-spy's spelling, so `top --pid PID` works as it does there
    .option('-p, --pid <pid>', 'the process to watch (instead of the argument)', (v: string) => parsePid(v))
    .option('-r, --rate <hz>', 'samples per second', parsePositive('--rate'), 100)
    .option('--delay <seconds>', 'seconds between refreshes', parsePositive('--delay'), 1)
    // the short flags are py-spy's
    .option('-i, --idle', 'include idle threads')
    .option('-g, --gil', 'only threads holding the GIL')
    .option('--nonblocking', 'never pause the target (the default; accepted as py-spy spells it)')
    .option('-s, --subprocesses', 'also sample child Python processes (multiprocessing, gunicorn workers)')
    .option('--full-filenames', 'whole paths, not the short form (package/module.py)')
    .option('-n, --native', 'count native (C/C++) functions too; pauses each sampled Python thread while its stack is read (ptrace)')
    .addHelpText(
      'after',
      '\nExamples:\n  spyglass top 4242\n  spyglass top --pid 4242 --rate 500 --gil\n  spyglass top --subprocesses --delay 2 -- python app.py',
    )
    .action(async (args: string[], o: TopOptions) => {
      const which = target(args, o);
      const out = process.stdout;
      if (!out.isTTY) throw new UserError('top needs a terminal', 'use `spyglass record` (or `dump`) when output goes to a file or pipe');
      // the sampler (and ptrace under it) loads when the command runs (BENCHMARKS.md#dump-start-up)
      const [{ Sampler }, { openPythonSource }, { openNativeSource }] = await Promise.all([
        import('../sampler/sampler.js'),
        import('../sampler/source.js'),
        import('../sampler/native-source.js'),
      ]);
      // q, Ctrl-C (a key in raw mode, SIGINT otherwise) or a terminal gone away (EIO) stop it
      const stop = stopSignal();
      // launch mode: its output would scribble over the screen, so it is kept for after
      const child = which.command
        ? await (await import('../record/launch.js')).launchProgram(which.command, { capture: true, onEnd: () => stop.abort() })
        : undefined;
      const pid = child?.pid ?? which.pid!;
      const stats = new TopStats(o.rate, o.fullFilenames ? undefined : cachedShortener(`/proc/${pid}/root`));
      const sampler = new Sampler({
        pid,
        rate: o.rate,
        idle: o.idle,
        gil: o.gil,
        subprocesses: o.subprocesses,
        waitForInterpreter: child !== undefined,
        openSource: o.native ? (p) => openNativeSource(p) : openPythonSource,
        signal: stop.signal,
        onTick: (t) => stats.add(t),
      });
      try {
        await sampler.openRoot();
      } catch (e) {
        if (child) await child.finish();
        throw e;
      }
      const cmdline = which.command?.join(' ') ?? processInfo(pid).cmdline;
      let sort: SortKey = 'ownPct';
      let last: WindowSummary = stats.summary();
      let lastRows: FunctionRow[] = [];
      const draw = (ended?: string) => {
        const lines = renderTop({
          pid,
          cmdline,
          rate: o.rate,
          summary: last,
          samples: sampler.stats.ticks,
          errors: sampler.stats.errors,
          rows: lastRows,
          sort,
          width: out.columns || 80,
          height: out.rows || 24,
          ended,
        });
        out.write('\x1b[H' + lines.map((l) => l + '\x1b[K').join('\r\n') + '\x1b[J');
      };
      const refresh = () => {
        last = stats.summary();
        lastRows = stats.rows(sort);
        stats.resetWindow();
        draw();
      };
      const stdin = process.stdin;
      emitKeypressEvents(stdin);
      if (stdin.isTTY) stdin.setRawMode(true);
      const onKey = (str: string | undefined, key: { name?: string; ctrl?: boolean }) => {
        if (key?.ctrl && key.name === 'c') markInterrupted(); // exit 130, as Ctrl-C anywhere
        if (key?.name === 'q' || (key?.ctrl && key.name === 'c')) stop.abort();
        const n = Number(str);
        if (n >= 1 && n <= SORT_KEYS.length) {
          sort = SORT_KEYS[n - 1];
          // re-sort what is on screen now rather than wait for the next window
          lastRows = [...lastRows].sort(byColumn(sort));
          draw();
        }
      };
      stdin.on('keypress', onKey);
      const onResize = () => draw();
      out.on('resize', onResize);
      out.write('\x1b[?1049h\x1b[?25l');
      draw();
      const first = setTimeout(refresh, 250);
      const timer = setInterval(refresh, o.delay * 1000);
      // launch mode: the program's status when it ended by itself (not stopped by q or Ctrl-C)
      let exitCode: number | undefined;
      try {
        await sampler.run();
      } finally {
        if (child) {
          // (the sampler may see it gone before Node has been told)
          const byItself = child.ended() || sampler.stats.targetExited;
          const code = await child.finish();
          if (byItself) exitCode = code;
        }
        clearTimeout(first);
        clearInterval(timer);
        stop.dispose();
        stdin.off('keypress', onKey);
        out.off('resize', onResize);
        if (stdin.isTTY) stdin.setRawMode(false);
        stdin.pause();
        out.write('\x1b[?25h\x1b[?1049l');
      }
      if (exitCode !== undefined) {
        process.stderr.write(`spyglass: ${cmdline} exited with status ${exitCode}\n`);
        // what it printed is shown when it failed, as py-spy does
        if (exitCode) process.stderr.write(child!.captured());
        process.exitCode = exitCode;
      } else if (sampler.stats.targetExited) process.stderr.write(`spyglass: process ${pid} exited\n`);
      // after the full-screen view is gone, so the redraws never cover them
      for (const n of sampler.stats.notes) process.stderr.write(`spyglass: note: ${n}\n`);
    });
}
