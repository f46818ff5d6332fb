// What watch, trace and monitor share on the shell side: the `module [class] method
// [-nm NESTED]` arguments, the first and last events of their streams (model.ts runs
// the stream: Ctrl-C / --timeout cancel it and the agent removes the hook), and the time
// stamp and cost of each result.
import { locationOptions, parseMethodTarget, type OptionSpec } from './args.js';
import type { CommandOutput } from './types.js';

/** The reference's named form of the observed function: --mod (--pkg), --cls, --func. */
export const LOCATION_OPTIONS = locationOptions('func');

export const NESTED_OPTION: OptionSpec = {
  names: ['-nm', '--nested-method'],
  key: 'nested',
  kind: 'string',
  metavar: '<value>',
  description: 'observe a function defined inside the method instead (one level deep)',
};

export function limitOption(defaultLimit: number, what: string): OptionSpec {
  return {
    names: ['-n', '--limits'],
    key: 'limit',
    kind: 'int',
    default: defaultLimit,
    min: 1,
    metavar: '<value>',
    description: `stop after this many ${what} (default ${defaultLimit})`,
  };
}

export type Options = Record<string, string | number | boolean | undefined>;

/** The agent arguments naming the observed function (by words, or by locationOptions()). */
export function methodArgs(command: string, positionals: string[], o: Options): MethodTarget {
  const { module, cls, method } = parseMethodTarget(command, positionals, o);
  return { module, cls, method, nested: o.nested as string | undefined };
}

/** The function watch, trace, monitor, tt and torch observe: `module [class] method [-nm nested]`. */
export interface MethodTarget {
  module: string;
  cls?: string;
  method: string;
  nested?: string;
}

/** The first event of watch, trace and monitor: what is observed, and where. */
export interface ObserveStarted {
  method: string;
  file: string;
  line: number;
}

/** HH:MM:SS.mmm of a Unix time in seconds (local time, as the target logs it). */
export function clockTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** A cost in ms with precision that suits its size. */
export function ms(value: number): string {
  if (value >= 100) return `${value.toFixed(1)}ms`;
  if (value >= 1) return `${value.toFixed(3)}ms`;
  return `${value.toFixed(4)}ms`;
}

/** The end data of watch, trace and monitor: how many were shown, and why the stream ended. */
export interface ObserveEnd {
  shown?: number;
  /** 'limit' when -n was reached */
  reason?: string;
  /** results the agent dropped because the client read too slowly */
  dropped?: number;
  [more: string]: unknown;
}

/** The closing note of a stream: why it ended and what was lost. */
export function endNote(out: CommandOutput, what: string, end: ObserveEnd, shownKey = 'shown'): void {
  const shown = Number(end[shownKey] ?? 0);
  const reason = end.reason === 'limit' ? 'limit reached' : 'stopped';
  let text = `${shown} ${what} shown (${reason}); hook removed`;
  if (end.dropped) text += `; ${end.dropped} dropped because the client read too slowly`;
  out.note(text);
}
