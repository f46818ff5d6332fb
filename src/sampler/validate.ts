// Detecting torn samples. Without pausing the target, a read can race with it: a frame
// popped while we followed its pointer yields garbage names, absurd line numbers or a
// chain that runs on. Such a sample is counted and dropped, never shown.
import type { Frame, ThreadSample } from './types.js';

/** A read that raced with the target: the frame chain changed or pointed at garbage. */
export class TornReadError extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'TornReadError';
  }
}

export const MAX_DEPTH = 4096;
export const MAX_THREADS = 4096;
const MAX_LINE = 10_000_000;
// control characters never occur in code names or file names CPython produces
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\ufffd]/;

/**
 * Frames found sound. The reader shares one frozen frame object per code object and
 * instruction between samples, so most frames of a sample were checked before.
 */
const soundFrames = new WeakSet<Frame>();

/**
 * The root of a stack the reader cut at its depth limit (MAX_DEPTH): the frames read are
 * the innermost, so a profile's stacks would otherwise root at some call in the middle
 * of the recursion and pass for complete ones. It has no file: labelled by its name alone.
 */
export const LEFT_OUT_FRAME: Frame = Object.freeze({ name: '(outermost frames left out)', filename: '', line: 0 });
soundFrames.add(LEFT_OUT_FRAME);

/** Why a sample cannot be trusted, or undefined when it looks sound. */
export function tornReason(threads: ThreadSample[]): string | undefined {
  if (threads.length > MAX_THREADS) return `more than ${MAX_THREADS} threads`;
  for (const t of threads) {
    if (t.frames.length - (t.frames.at(-1) === LEFT_OUT_FRAME ? 1 : 0) > MAX_DEPTH) return `stack deeper than ${MAX_DEPTH}`;
    for (const f of t.frames) {
      if (soundFrames.has(f)) continue;
      const why = frameFault(f);
      if (why) return why;
      if (Object.isFrozen(f)) soundFrames.add(f);
    }
  }
  return undefined;
}

function frameFault(f: Frame): string | undefined {
  if (!f.name || CONTROL.test(f.name)) return 'unreadable function name';
  // a native frame was unwound while its thread was stopped: it has a module, no file
  if (f.kind === 'native') return undefined;
  if (!f.filename || CONTROL.test(f.filename)) return 'unreadable file name';
  if (!Number.isInteger(f.line) || f.line < 0 || f.line > MAX_LINE) return 'impossible line number';
  return undefined;
}
