// Text and JSON renderings of a stack dump, shared by `spyglass dump`, `spyglass demo`
// and the shell's `stack` command, so every front end shows stacks the same way.
import type { StackDump, StackFrame, ThreadStack } from '../reader/types.js';

export interface RenderOptions {
  /** outermost (oldest) frame first instead of innermost first */
  outermostFirst?: boolean;
  /** the process's command line, shown in its heading (dump --subprocesses) */
  cmdline?: string;
}

/** idle / active / holds the GIL, as the thread header shows it */
export function threadState(t: ThreadStack): string {
  const parts: string[] = [];
  if (t.activity !== 'unknown') parts.push(t.activity);
  if (t.holdsGil) parts.push('holds the GIL');
  return parts.join(', ') || 'unknown';
}

export function threadHeader(t: ThreadStack, showInterpreter: boolean): string {
  const id = t.tid !== undefined ? String(t.tid) : `0x${t.threadId.toString(16)}`;
  const name = t.name !== undefined ? ` "${t.name}"` : '';
  const interp = showInterpreter ? ` [interpreter ${t.interpreterId}]` : '';
  return `Thread ${id}${name}${interp} (${threadState(t)})`;
}

export function frameLine(f: StackFrame): string {
  return `${f.name} (${f.filename}${f.line ? `:${f.line}` : ''})`;
}

function orderedFrames(t: ThreadStack, opts: RenderOptions): StackFrame[] {
  return opts.outermostFirst ? [...t.frames].reverse() : t.frames;
}

/** One thread: its header, then one line per frame (and its variables under --locals). */
export function renderThreadText(t: ThreadStack, opts: RenderOptions = {}, showInterpreter = false): string[] {
  const lines = [threadHeader(t, showInterpreter)];
  const frames = orderedFrames(t, opts);
  if (t.truncated && opts.outermostFirst) lines.push('    ... (innermost frames left out)');
  for (const f of frames) {
    lines.push(`    ${frameLine(f)}`);
    if (!f.locals?.length) continue;
    const args = f.locals.filter((v) => v.argument);
    const locals = f.locals.filter((v) => !v.argument);
    if (args.length) lines.push('        Arguments:', ...args.map((v) => `            ${v.name} = ${v.value}`));
    if (locals.length) lines.push('        Locals:', ...locals.map((v) => `            ${v.name} = ${v.value}`));
  }
  if (t.truncated && !opts.outermostFirst) lines.push('    ... (outermost frames left out)');
  // shown where the stack is cut: after the innermost frames read, or before them when outermost-first
  if (t.torn !== undefined) lines.splice(opts.outermostFirst ? 1 : lines.length, 0, `    <torn: ${t.torn}; the thread kept changing its stack while it was read, so the frames shown may be incomplete>`);
  if (!t.frames.length) lines.push('    (no Python frames)');
  return lines;
}

/** The whole dump as text: a process line, then each thread separated by a blank line. */
export function renderStackText(dump: StackDump, opts: RenderOptions = {}): string {
  const p = dump.python;
  const multi = dump.interpreters.length > 1;
  // one line, whatever the command line holds (python -c 'a\nb')
  const cmd = opts.cmdline !== undefined ? ` (${opts.cmdline.replace(/\n/g, '\\n')})` : '';
  const out = [`Process ${dump.pid}${cmd}: Python ${p.version} (${p.build === 'shared' ? `shared ${p.library ?? 'libpython'}` : `static ${p.executable}`})`];
  if (multi) out.push(`Interpreters: ${dump.interpreters.join(', ')}`);
  for (const t of dump.threads) out.push('', ...renderThreadText(t, opts, multi));
  if (!dump.threads.length) out.push('', '(no Python threads)');
  return out.join('\n') + '\n';
}

/**
 * The JSON document `dump --json` prints: the dump itself with frames in the requested
 * order, and each thread's state spelled out.
 */
export function stackDumpJson(dump: StackDump, opts: RenderOptions = {}): unknown {
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
    })),
  };
}
