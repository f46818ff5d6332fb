// The recording engine behind `spyglass record` and the shell's `perf`: sample a
// process (or a program it launches) until Ctrl-C, the duration, or the target's exit,
// then write the profile in the chosen format. Whatever ends the recording, what was
// sampled is written.
import { accessSync, constants as fsConstants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError, UserError } from '../errors.js';
import type { SavedFile } from '../save-file.js';
import type { LaunchedProgram } from './launch.js';
import { defaultOutput, needsTimeline, openHint, unusedPath, writeProfile, type Format } from '../formats/index.js';
import { cachedShortener } from '../sampler/filenames.js';
import { StackProfile } from '../sampler/profile.js';
import { Sampler, type SamplerStats } from '../sampler/sampler.js';
import { openPythonSource } from '../sampler/source.js';
import { statusLine } from './status.js';
import type { SampleSource } from '../sampler/types.js';
import { nowMs } from '../clock.js';

export interface RecordOptions {
  /** a running process to profile ... */
  pid?: number;
  /** ... or a program to launch and profile from its start: [executable, ...args] */
  command?: string[];
  /**
   * launch mode: the program's output goes to a file, shown only if it fails (py-spy's
   * --capture), rather than to the terminal
   */
  capture?: boolean;
  /** samples per second (default 100) */
  rate?: number;
  /** seconds (default: until aborted or the target exits) */
  durationSec?: number;
  format?: Format;
  /** file to write, relative to cwd; replaced if it exists (the user named it) */
  output?: string;
  /** without output: the file name in cwd (default per format, e.g. flamegraph.html), numbered if taken */
  defaultOutput?: string;
  cwd?: string;
  idle?: boolean;
  gil?: boolean;
  threads?: boolean;
  subprocesses?: boolean;
  nolineno?: boolean;
  function?: boolean;
  /** whole paths in frame labels rather than the short form */
  fullFilenames?: boolean;
  blocking?: boolean;
  /** merge native frames into every sample (pauses the sampled Python threads); 'all' keeps interpreter plumbing */
  native?: boolean | 'all';
  /** aborting ends the recording and writes the output (Ctrl-C) */
  signal?: AbortSignal;
  /** live status: called about 4 times a second with one line; clearStatus before other output */
  status?: { show(line: string): void; clear(): void };
  /** where samples come from (tests); the out-of-process reader by default */
  openSource?: (pid: number) => SampleSource | Promise<SampleSource>;
}

export interface RecordResult {
  /** absolute path of the file written */
  path: string;
  /** set when the file could not be written where asked and went to `path` instead */
  notWritten?: SavedFile['notWritten'];
  format: Format;
  pid: number;
  stats: SamplerStats;
  /** launch mode: the program's exit code (128 + signal number when a signal ended it) */
  exitCode?: number;
  /** launch mode with capture: what the program printed, when it failed */
  programOutput?: string;
  /** its child processes were sampled too */
  subprocesses?: boolean;
}

const STATUS_MS = 250;
/**
 * The event loop is served this often while recording (sampler.ts): each turn costs about
 * as much CPU as a sample; Ctrl-C and the status line can wait this long.
 */
const EVENT_LOOP_SLICE_MS = STATUS_MS;
/**
 * Up to this rate the recording runs without V8's optimizing compiler (baseline code
 * only). Between samples 10 ms apart the CPU's caches go cold and optimized code saves
 * little per sample, while compiling the sampler's few dozen hot functions on V8's
 * background threads cost about a third of a 5 s recording's CPU at 100 Hz; at 300 Hz
 * the two break even, at 1000 Hz optimized code wins (BENCHMARKS.md#record-cpu-per-sample).
 */
const BASELINE_CODE_UP_TO_RATE = 200;

function checkWritable(dir: string): void {
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch (e) {
    throw new UserError(
      `cannot write the profile into ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      'choose another output file',
    );
  }
}

export async function recordProfile(opts: RecordOptions): Promise<RecordResult> {
  if ((opts.pid === undefined) === !opts.command?.length) throw new UsageError('give either a pid or a command to launch (after --)');
  const format = opts.format ?? 'flamegraph';
  const rate = opts.rate ?? 100;
  if (!(rate > 0) || rate > 10000) throw new UsageError(`--rate must be between 1 and 10000 samples per second (got ${rate})`);
  if (opts.durationSec !== undefined && !(opts.durationSec > 0))
    throw new UsageError(`--duration must be above 0 seconds (got ${opts.durationSec})`);
  const cwd = resolve(opts.cwd ?? process.cwd());
  const named = opts.output === undefined ? undefined : resolve(cwd, opts.output);
  // a recording can last minutes: find out now, not at the end, that it cannot be saved
  checkWritable(named ? dirname(named) : cwd);

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();

  // its end ends the recording
  const child: LaunchedProgram | undefined = opts.command?.length
    ? await (await import('./launch.js')).launchProgram(opts.command, { cwd: opts.cwd, capture: opts.capture, onEnd: () => stop.abort() })
    : undefined;
  const pid = child?.pid ?? opts.pid!;

  // without a shortener the profile keeps whole paths (--full-filenames)
  const shorten = opts.fullFilenames ? undefined : cachedShortener(`/proc/${pid}/root`);
  const profile = new StackProfile(
    {
      lineNumbers: !opts.nolineno,
      byFunction: opts.function,
      threadRoots: opts.threads,
      processRoots: opts.subprocesses,
      timeline: needsTimeline(format),
      shorten,
    },
    { rate, startedAt: Date.now(), title: opts.command?.join(' ') ?? '' },
  );
  // a process-wide V8 setting, restored when the recording ends (the shell's perf lives on)
  // not when the target's threads are paused for each sample (--native, --blocking): the
  // pause lasts as long as the read, and the native unwinding is heavy code
  const baseline = rate <= BASELINE_CODE_UP_TO_RATE && !opts.native && !opts.blocking;
  const optimizer = baseline ? await import('./optimizer.js') : undefined;
  // switched after the first sample, which compiled every function a sample runs: the
  // launcher's code cache, saved before the switch (optimizer.ts), then holds them too
  let switched = false;
  const sampler = new Sampler({
    pid,
    rate,
    durationSec: opts.durationSec,
    idle: opts.idle,
    gil: opts.gil,
    blocking: opts.blocking,
    subprocesses: opts.subprocesses,
    waitForInterpreter: child !== undefined,
    openSource:
      opts.openSource ??
      // the native layer (its DWARF readers, zlib, koffi) is loaded only for --native
      (opts.native
        ? async (p: number) => (await import('../sampler/native-source.js')).openNativeSource(p, { all: opts.native === 'all' })
        : openPythonSource),
    signal: stop.signal,
    eventLoopSliceMs: EVENT_LOOP_SLICE_MS,
    // a name shows only under a thread's root frame or in a timeline (reading them is
    // about a millisecond at the first sample)
    threadNames: Boolean(opts.threads) || needsTimeline(format),
    onProcess: (p, cmdline) => {
      profile.setProcessName(p, cmdline);
      if (p === pid && !profile.meta.title) profile.meta.title = cmdline || `process ${pid}`;
    },
    onTick: (t) => {
      if (optimizer && !switched) {
        optimizer.baselineCodeOnly();
        switched = true;
      }
      profile.tick(t.time);
      for (const s of t.kept) profile.add(s);
    },
  });

  const started = nowMs();
  const statusTimer = opts.status
    ? setInterval(() => opts.status!.show(statusLine(sampler.stats, (nowMs() - started) / 1000, rate)), STATUS_MS)
    : undefined;
  let stats: SamplerStats;
  try {
    await sampler.openRoot();
    stats = await sampler.run();
  } catch (e) {
    if (child && !child.ended()) process.kill(child.pid, 'SIGTERM');
    throw e;
  } finally {
    if (switched) optimizer?.optimizeAgain();
    if (statusTimer) clearInterval(statusTimer);
    opts.status?.clear();
    opts.signal?.removeEventListener('abort', onAbort);
  }
  profile.meta.duration = stats.elapsed;
  profile.meta.errors = stats.errors;
  profile.meta.behind = stats.behind;
  profile.meta.notes = [...stats.notes];
  // the default name is chosen at the end: another recording may have taken it meanwhile
  let saved: SavedFile;
  let exitCode: number | undefined;
  try {
    saved = await writeProfile(profile, format, named ?? unusedPath(cwd, opts.defaultOutput ?? defaultOutput(format)));
  } finally {
    // launch mode: the program's exit or Ctrl-C (which reached it too) ended the recording;
    // when --duration did, the program is stopped as it would be by Ctrl-C (even when the
    // profile could not be saved anywhere)
    if (child) exitCode = await child.finish();
  }
  const programOutput = exitCode ? child?.captured() || undefined : undefined;
  return { path: saved.path, notWritten: saved.notWritten, format, pid, stats, exitCode, programOutput, subprocesses: opts.subprocesses };
}

/** What a finished recording tells the user: the file written, how to open it, and what may be wrong with it. */
export function summarizeRecording(r: RecordResult): string[] {
  const s = r.stats;
  const lines = [
    `spyglass: wrote ${r.format} to ${r.path}: ${s.ticks} samples (${s.samples} thread samples) in ${s.elapsed.toFixed(1)} s, ` +
      `${s.errors} errors${s.processes > 1 ? `, ${s.processes} processes` : ''}`,
    `  ${openHint(r.format, r.path)}`,
  ];
  if (s.targetExited) lines.push(`  process ${r.pid} exited during the recording`);
  // launch mode (or --subprocesses from a launcher): nothing was sampled, and why is not
  // plain from an empty profile
  if (s.processes === 0)
    lines.push(
      r.subprocesses
        ? `  no Python interpreter was found in process ${r.pid} or below it`
        : `  no Python interpreter was found in process ${r.pid} (a shell script or a launcher? --subprocesses samples the Python processes it starts)`,
    );
  if (s.errors) lines.push(`  dropped samples: ${[...s.errorKinds].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  if (s.behind) lines.push(`  the sampler fell behind and skipped ${s.behind} samples; results may be inaccurate (try a lower --rate)`);
  if (s.ticks > 0 && s.samples === 0 && s.processes > 0)
    lines.push('  no thread was running Python code while sampled (idle threads are left out unless --idle)');
  for (const n of s.notes) lines.push(`  note: ${n}`);
  if (r.programOutput) lines.push(`  the program exited with status ${r.exitCode}; what it printed:`, r.programOutput.trimEnd());
  return lines;
}
