// Text and JSON renderings of a stack dump, shared by `spyglass dump`, `spyglass demo`
// and the shell's `stack` command, so every front end shows stacks the same way.
import type { NativeFrame, NativeStackInfo } from '../native/types.js';
import type { StackDump, StackFrame, ThreadStack } from '../reader/types.js';

/** A thread as read, with its native stack when --native asked for one. */
type AnyThread = ThreadStack & { native?: NativeStackInfo };
type AnyDump = Omit<StackDump, 'threads'> & { threads: AnyThread[]; notes?: string[] };

export interface RenderOptions {
  /** outermost (oldest) frame first instead of innermost first */
  outermostFirst?: boolean;
  /** the process's command line, shown in its heading (dump --subprocesses) */
  cmdline?: string;
  /**
   * the shell's `stack`: each thread headed "Traceback for thread ..." and a native frame
   * marked "(C)", as the reference tool prints them on Linux (scripts look for both)
   */
  traceback?: boolean;
}

/** idle / active / holds the GIL, as the thread header shows it */
export function threadState(t: ThreadStack): string {
  const parts: string[] = [];
  if (t.activity !== 'unknown') parts.push(t.activity);
  if (t.holdsGil) parts.push('holds the GIL');
  return parts.join(', ') || 'unknown';
}

export function threadHeader(t: ThreadStack, showInterpreter: boolean, traceback = false): string {
  const id = t.tid !== undefined ? String(t.tid) : `0x${t.threadId.toString(16)}`;
  const name = t.name !== undefined ? ` "${t.name}"` : '';
  const interp = showInterpreter ? ` [interpreter ${t.interpreterId}]` : '';
  return `${traceback ? 'Traceback for thread' : 'Thread'} ${id}${name}${interp} (${threadState(t)})`;
}

export function frameLine(f: StackFrame): string {
  return `${f.name} (${f.filename}${f.line ? `:${f.line}` : ''})`;
}

/** A native frame: marked as such, with its source line when known and its module (its address when it has no name). */
export function nativeFrameLine(f: NativeFrame, traceback = false): string {
  const source = f.file ? `${f.file}:${f.line}, ` : '';
  return `${traceback ? '(C)' : '[native]'} ${f.name} (${source}${f.module})${f.inlined ? ' [inlined]' : ''}${f.guessed ? ' [guessed caller]' : ''}`;
}

function mixedFrameLine(f: StackFrame | NativeFrame, opts: RenderOptions): string {
  return 'kind' in f && f.kind === 'native' ? nativeFrameLine(f, opts.traceback) : frameLine(f as StackFrame);
}

function ordered<T>(frames: T[], opts: RenderOptions): T[] {
  return opts.outermostFirst ? [...frames].reverse() : frames;
}

function orderedFrames(t: ThreadStack, opts: RenderOptions): StackFrame[] {
  return ordered(t.frames, opts);
}

/** A thread read with --native: the merged stack, or both stacks and why they could not be merged. */
function renderNativeThread(t: AnyThread, native: NativeStackInfo, opts: RenderOptions, showInterpreter: boolean): string[] {
  const lines = [threadHeader(t, showInterpreter, opts.traceback)];
  if (native.merged) {
    for (const f of ordered(native.frames, opts)) lines.push(`    ${mixedFrameLine(f, opts)}`);
  } else {
    lines.push(`    (native and Python stacks could not be merged: ${native.reason}; both follow)`, '    Python stack:');
    for (const f of orderedFrames(t, opts)) lines.push(`        ${frameLine(f)}`);
    if (!t.frames.length) lines.push('        (no Python frames)');
    lines.push('    Native stack:');
    for (const f of ordered(native.frames, opts)) lines.push(`        ${mixedFrameLine(f, opts)}`);
  }
  if (native.stopped) lines.push(`    (native stack incomplete: ${native.stopped})`);
  return lines;
}

/** One thread: its header, then one line per frame (and its variables under --locals). */
export function renderThreadText(t: AnyThread, opts: RenderOptions = {}, showInterpreter = false): string[] {
  if (t.native) return renderNativeThread(t, t.native, opts, showInterpreter);
  const lines = [threadHeader(t, showInterpreter, opts.traceback)];
  const frames = orderedFrames(t, opts);
  // the walk starts at the innermost frame, so a cut stack lacks its outermost frames,
  // whichever order they are printed in
  const cut = '    ... (outermost frames left out)';
  if (t.truncated && opts.outermostFirst) lines.push(cut);
  for (const f of frames) {
    lines.push(`    ${frameLine(f)}`);
    if (!f.locals?.length) continue;
    const args = f.locals.filter((v) => v.argument);
    const locals = f.locals.filter((v) => !v.argument);
    if (args.length) lines.push('        Arguments:', ...args.map((v) => `            ${v.name} = ${v.value}`));
    if (locals.length) lines.push('        Locals:', ...locals.map((v) => `            ${v.name} = ${v.value}`));
  }
  if (t.truncated && !opts.outermostFirst) lines.push(cut);
  // shown where the stack is cut: after the innermost frames read, or before them when outermost-first
  if (t.torn !== undefined)
    lines.splice(
      opts.outermostFirst ? 1 : lines.length,
      0,
      `    <torn: ${t.torn}; the thread kept changing its stack while it was read, so the frames shown may be incomplete>`,
    );
  if (!t.frames.length) lines.push('    (no Python frames)');
  return lines;
}

/** The whole dump as text: a process line, then each thread separated by a blank line. */
export function renderStackText(dump: AnyDump, opts: RenderOptions = {}): string {
  const p = dump.python;
  const multi = dump.interpreters.length > 1;
  // "Process PID:" opens the heading, as py-spy's does (its users' scripts count those
  // lines); the command line, when given, on a line of its own, whatever it holds
  // (python -c 'a\nb')
  const out = [
    `Process ${dump.pid}: Python ${p.version} (${p.build === 'shared' ? `shared ${p.library ?? 'libpython'}` : `static ${p.executable}`})`,
  ];
  if (opts.cmdline !== undefined) out.push(`Command: ${opts.cmdline.replace(/\n/g, '\\n')}`);
  if (multi) out.push(`Interpreters: ${dump.interpreters.join(', ')}`);
  for (const t of dump.threads) out.push('', ...renderThreadText(t, opts, multi));
  if (!dump.threads.length) out.push('', '(no Python threads)');
  if (dump.notes?.length) out.push('', ...dump.notes.map((n) => `note: ${n}`));
  return out.join('\n') + '\n';
}

/**
 * The JSON document `dump --json` prints: the dump itself with frames in the requested
 * order, and each thread's state spelled out.
 */
/** A frame of a --native stack in JSON: kind, and module and address for a native one. */
function mixedFrameJson(f: StackFrame | NativeFrame): unknown {
  if ('kind' in f && f.kind === 'native') {
    return {
      kind: 'native',
      name: f.name,
      module: f.module,
      address: `0x${f.address.toString(16)}`,
      ...(f.file ? { filename: f.file, line: f.line } : {}),
      ...(f.inlined ? { inlined: true } : {}),
      ...(f.guessed ? { guessed: true } : {}),
    };
  }
  const p = f as StackFrame;
  return { kind: 'python', name: p.name, filename: p.filename, line: p.line, ...(p.locals ? { locals: p.locals } : {}) };
}

function nativeJson(t: AnyThread, opts: RenderOptions): Record<string, unknown> {
  const n = t.native!;
  if (n.merged)
    return { merged: true, frames: ordered(n.frames, opts).map(mixedFrameJson), ...(n.stopped ? { nativeStopped: n.stopped } : {}) };
  return {
    merged: false,
    mergeError: n.reason,
    frames: orderedFrames(t, opts).map(mixedFrameJson),
    nativeFrames: ordered(n.frames, opts).map(mixedFrameJson),
    ...(n.stopped ? { nativeStopped: n.stopped } : {}),
  };
}

/** A frame of the JSON document: a Python frame, or under --native a native one (address in hex). */
export type FrameJson =
  | { kind?: 'python'; name: string; filename: string; line: number; entry?: boolean; locals?: StackFrame['locals'] }
  | {
      kind: 'native';
      name: string;
      module: string;
      address: string;
      filename?: string;
      line?: number;
      inlined?: boolean;
      guessed?: boolean;
    };

/** One thread of the JSON document (`dump --json`, `stack --json`). */
export interface ThreadJson {
  tid: number | null;
  threadId: number;
  name: string | null;
  interpreterId: number;
  state: string;
  activity: ThreadStack['activity'];
  holdsGil: boolean;
  truncated: boolean;
  torn: string | null;
  frames: FrameJson[];
  merged?: boolean;
  mergeError?: string;
  nativeFrames?: FrameJson[];
  nativeStopped?: string;
}

/** The JSON document `dump --json` and `stack --json` print. */
export interface StackDumpJson {
  pid: number;
  cmdline?: string;
  python: StackDump['python'];
  interpreters: number[];
  frameOrder: 'outermost-first' | 'innermost-first';
  threads: ThreadJson[];
  notes?: string[];
}

function frameFromJson(f: FrameJson): StackFrame | NativeFrame {
  if (f.kind === 'native')
    return {
      kind: 'native',
      name: f.name,
      module: f.module,
      address: BigInt(f.address),
      ...(f.filename ? { file: f.filename, line: f.line } : {}),
      inlined: f.inlined,
      guessed: f.guessed,
    };
  return { name: f.name, filename: f.filename, line: f.line, ...(f.locals ? { locals: f.locals } : {}) };
}

/**
 * The dump a JSON document was made from, as far as the text shows it: the text view of
 * a command whose result is the JSON (stack) draws it with the same renderer as dump.
 * Only for innermost-first documents (`stack` prints no other order).
 */
export function stackDumpFromJson(j: StackDumpJson): AnyDump {
  return {
    pid: j.pid,
    python: j.python,
    interpreters: j.interpreters,
    threads: j.threads.map((t) => {
      const python = (t.merged ? [] : t.frames).map(frameFromJson) as StackFrame[];
      return {
        interpreterId: t.interpreterId,
        threadId: t.threadId,
        ...(t.tid !== null ? { tid: t.tid } : {}),
        ...(t.name !== null ? { name: t.name } : {}),
        holdsGil: t.holdsGil,
        activity: t.activity,
        frames: python,
        truncated: t.truncated,
        ...(t.torn !== null ? { torn: t.torn } : {}),
        ...(t.merged !== undefined
          ? {
              native: {
                merged: t.merged,
                frames: (t.merged ? t.frames : (t.nativeFrames ?? [])).map(frameFromJson) as NativeStackInfo['frames'],
                reason: t.mergeError,
                stopped: t.nativeStopped,
              },
            }
          : {}),
      };
    }),
    ...(j.notes ? { notes: j.notes } : {}),
  };
}

export function stackDumpJson(dump: AnyDump, opts: RenderOptions = {}): StackDumpJson {
  return {
    pid: dump.pid,
    ...(opts.cmdline !== undefined ? { cmdline: opts.cmdline } : {}),
    python: dump.python,
    interpreters: dump.interpreters,
    frameOrder: opts.outermostFirst ? 'outermost-first' : 'innermost-first',
    threads: dump.threads.map((t) => ({
      tid: t.tid ?? null,
      threadId: t.threadId,
      name: t.name ?? null,
      interpreterId: t.interpreterId,
      state: t.holdsGil ? 'holds-gil' : t.activity,
      activity: t.activity,
      holdsGil: t.holdsGil,
      truncated: t.truncated ?? false,
      torn: t.torn ?? null,
      frames: orderedFrames(t, opts).map((f) => ({
        name: f.name,
        filename: f.filename,
        line: f.line,
        ...(f.entry ? { entry: true } : {}),
        ...(f.locals ? { locals: f.locals } : {}),
      })),
      // --native: the merged frames replace the Python ones
      ...(t.native ? nativeJson(t, opts) : {}),
    })),
    ...(dump.notes ? { notes: dump.notes } : {}),
  };
}
