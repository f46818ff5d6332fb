// The CommandOutput every shell command writes to: human lines on stdout, or one JSON
// value per line with --json (scripts drive spyglass that way); notes go to stderr.
// Colour only on a terminal, never with NO_COLOR or --no-color.
import type { CommandOutput } from '../commands/types.js';
import { helpWidth } from '../help-text.js';

export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
}

/** Whether to colour what goes to `stream` (https://no-color.org: any non-empty NO_COLOR). */
export function wantColor(stream: { isTTY?: boolean }, noColorFlag = false, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !noColorFlag && !env.NO_COLOR;
}

export function createOutput(opts: { json: boolean; color: boolean }, streams: OutputStreams = process): CommandOutput {
  return {
    json: opts.json,
    color: opts.color && !opts.json,
    line(text: string) {
      if (!opts.json) streams.stdout.write(text + '\n');
    },
    record(value: unknown) {
      if (opts.json) streams.stdout.write(JSON.stringify(value, jsonSafe) + '\n');
    },
    note(text: string) {
      streams.stderr.write(text + '\n');
    },
    clearScreen() {
      // home, erase the screen and its scrollback; only a terminal understands it
      if (!opts.json && streams.stdout.isTTY) streams.stdout.write('\x1b[H\x1b[2J\x1b[3J');
    },
    get width() {
      return helpWidth(streams.stdout);
    },
  };
}

/** JSON has no BigInt: addresses and big counters go out as decimal strings. */
function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
