// The one-line live status of a recording on stderr, redrawn in place. Shown only when
// stderr is a terminal, so logs and pipes never receive it.
import type { SamplerStats } from '../sampler/sampler.js';
import { isTerminal } from '../terminal.js';

export function statusLine(
  stats: Pick<SamplerStats, 'ticks' | 'samples' | 'errors' | 'behind' | 'processes'>,
  elapsedSec: number,
  rate: number,
): string {
  const effective = elapsedSec > 0 ? stats.ticks / elapsedSec : 0;
  const parts = [
    `${elapsedSec.toFixed(1)}s`,
    `${stats.ticks} samples`,
    `${stats.samples} thread samples`,
    `${stats.errors} errors`,
    `${effective.toFixed(0)}/${rate} Hz`,
  ];
  if (stats.processes > 1) parts.push(`${stats.processes} processes`);
  if (stats.behind) parts.push(`${stats.behind} behind`);
  // --subprocesses under a process that is not Python: nothing to sample until one starts
  if (stats.processes === 0) return `recording: ${elapsedSec.toFixed(1)}s, waiting for a Python process to start (Ctrl-C to stop)`;
  return `recording: ${parts.join(', ')} (Ctrl-C to stop)`;
}

/** Redraws a line on a TTY stream; clear() removes it before normal output continues. */
export class LiveLine {
  private readonly stream: NodeJS.WriteStream;
  private shown = false;

  constructor(stream: NodeJS.WriteStream) {
    this.stream = stream;
  }

  /** A live line on stderr when it is a terminal (its stream is then made, not otherwise: src/terminal.ts). */
  static forStderr(): LiveLine | undefined {
    return isTerminal(2) ? new LiveLine(process.stderr) : undefined;
  }

  show(text: string): void {
    const width = this.stream.columns || 80;
    this.stream.write(`\r${text.length >= width ? text.slice(0, width - 1) : text}\x1b[K`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
