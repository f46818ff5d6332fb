// How a run of spyglass ends before its work is done: Ctrl-C, or the reader of its stdout
// going away (`spyglass dump PID | head -2`, `less` then `q`). Both stop the running
// command through its own way out (hooks removed, agent session closed, a recording
// written, the target resumed and detached), never by killing spyglass where it stands.
// The exit status then says which (README, "Exit status and streams"): 130 after Ctrl-C;
// 0 when the reader left, as ripgrep does: it had what it wanted.

import { writeSync } from 'node:fs';

// made on first use: Node 20 loads AbortController's module (~1 ms) when the global is first read
let outputGone: AbortController | undefined;
const gone = () => (outputGone ??= new AbortController());
let interrupted = false;

/** Aborted once stdout's reader has gone: whatever writes results has no one to write for. */
export function stdoutClosed(): AbortSignal {
  return gone().signal;
}

/**
 * Installed once by main, before anything is written. A write to a closed pipe fails
 * asynchronously with an 'error' event (EPIPE), which without a listener ends node with a
 * stack trace; here it becomes stdoutClosed instead. Any other error of stdout (EIO from a
 * terminal that was closed) means the same: nothing written from now on can be read.
 * The listeners are added when a stream is first used, not here: making process.stdout
 * loads Node's stream machinery (and net for a pipe, tty for a terminal), ~5 ms of every
 * start-up that a `dump`, which writes with writeStdout, does not need.
 */
export function watchOutputStreams(): void {
  onFirstUse('stdout', (s) => s.on('error', () => gone().abort()));
  // nowhere left to say anything: the run still ends through its own way out
  onFirstUse('stderr', (s) => s.on('error', () => undefined));
}

/** Runs setup on process[name] when something first reads it. */
function onFirstUse(name: 'stdout' | 'stderr', setup: (stream: NodeJS.WriteStream) => void): void {
  const lazy = Object.getOwnPropertyDescriptor(process, name);
  if (!lazy?.get || !lazy.configurable) {
    setup(process[name]); // not Node's lazy getter: set it up now
    return;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: lazy.enumerable,
    get() {
      const stream = lazy.get!.call(process) as NodeJS.WriteStream;
      Object.defineProperty(process, name, { configurable: true, enumerable: lazy.enumerable, writable: false, value: stream });
      setup(stream);
      return stream;
    },
  });
}

/**
 * Writes a one-shot command's whole output straight to fd 1, as process.stdout would
 * for a file or a pipe on Linux (synchronously), without making the stream (above). A
 * reader that has gone (EPIPE) aborts stdoutClosed; a non-blocking stdout that is full
 * (EAGAIN) is waited for, as process.stdout would.
 */
export function writeStdout(text: string): void {
  if (outputGone?.signal.aborted) return;
  if (!writeAll(1, text)) gone().abort(); // EPIPE, EIO: nothing written from now on can be read
}

/** A command's closing lines on stderr, the same way (a stderr that is gone is ignored, as above). */
export function writeStderr(text: string): void {
  writeAll(2, text);
}

/** False when fd cannot take more (its reader has gone, EIO). */
function writeAll(fd: number, text: string): boolean {
  const data = Buffer.from(text);
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return false;
      Atomics.wait(PAUSE, 0, 0, 1);
    }
  }
  return true;
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** The run was ended by Ctrl-C (main then exits 130 unless the command set its own status). */
export function markInterrupted(): void {
  interrupted = true;
}

export function wasInterrupted(): boolean {
  return interrupted;
}

/**
 * The signal a command that runs until stopped listens to: aborted by the first Ctrl-C
 * (the command ends as it would at its own end; a second Ctrl-C exits 130 at once) and
 * when stdout closes. dispose() removes the handlers.
 */
export function stopSignal(): { signal: AbortSignal; abort(): void; dispose(): void } {
  const ac = new AbortController();
  const onSigint = () => {
    if (ac.signal.aborted && interrupted) process.exit(130);
    markInterrupted();
    ac.abort();
  };
  const onClosed = () => ac.abort();
  process.on('SIGINT', onSigint);
  const closed = stdoutClosed();
  if (closed.aborted) ac.abort();
  else closed.addEventListener('abort', onClosed, { once: true });
  return {
    signal: ac.signal,
    /** the command's own way of stopping (top's q key) */
    abort: () => ac.abort(),
    dispose() {
      process.off('SIGINT', onSigint);
      closed.removeEventListener('abort', onClosed);
    },
  };
}
