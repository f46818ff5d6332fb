// Parses a shell command line the way the reference tool's argparse grammar reads it:
// quoted words, long options (--expr), multi-letter short options (-nm, -et, -da),
// `--opt=value`, and positionals in between. One parser for every shell command, so
// the grammar of all of them behaves the same way.
import { UsageError } from '../errors.js';

/** Splits a command line into words: single and double quotes, backslash escapes. */
/** A process id typed by the user (digits only: no sign, exponent or hex); `what` prefixes the error. */
export function parsePid(word: string, what = '', hint?: string): number {
  const n = Number(word);
  if (!/^\d+$/.test(word) || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${what}not a process id: '${word}'`, hint);
  return n;
}

export function tokenize(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length && (line[i + 1] === '"' || line[i + 1] === '\\')) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new UsageError(`unterminated ${quote} quote in: ${line}`);
  if (inWord) out.push(cur);
  return out;
}

export type OptionKind = 'flag' | 'string' | 'int' | 'float';

export interface OptionSpec {
  /** every spelling, e.g. ['-n', '--limits'] */
  names: string[];
  /** key in the parsed result, e.g. 'limit' */
  key: string;
  kind: OptionKind;
  default?: string | number | boolean;
  description: string;
  /** placeholder in usage/help, e.g. '<value>' */
  metavar?: string;
  /** for int/float: inclusive bounds */
  min?: number;
  max?: number;
  /** accepted values for string options */
  choices?: string[];
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | number | boolean | undefined>;
}

export function parseArgs(command: string, words: string[], specs: OptionSpec[]): ParsedArgs {
  const byName = new Map<string, OptionSpec>();
  for (const s of specs) for (const n of s.names) byName.set(n, s);
  const options: ParsedArgs['options'] = {};
  for (const s of specs) options[s.key] = s.default;
  const positionals: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === '--') {
      positionals.push(...words.slice(i + 1));
      break;
    }
    // a negative number is a value, not an option (`-n -1`)
    if (w.startsWith('-') && w.length > 1 && !/^-\d/.test(w)) {
      const eq = w.indexOf('=');
      const name = w.startsWith('--') && eq > 0 ? w.slice(0, eq) : w;
      const spec = byName.get(name);
      if (!spec) {
        const near = specs.flatMap((s) => s.names).filter((n) => n.startsWith(name.slice(0, 2)));
        throw new UsageError(`${command}: unknown option ${name}`, near.length ? `options of ${command}: ${near.join(', ')}` : `see \`help ${command}\``);
      }
      if (spec.kind === 'flag') {
        options[spec.key] = true;
        continue;
      }
      let value: string;
      if (name !== w) value = w.slice(eq + 1);
      else if (i + 1 < words.length) value = words[++i];
      else throw new UsageError(`${command}: option ${name} needs a value`, `e.g. ${name} ${spec.metavar ?? '<value>'}`);
      options[spec.key] = convert(command, name, spec, value);
    } else {
      positionals.push(w);
    }
  }
  return { positionals, options };
}

function convert(command: string, name: string, spec: OptionSpec, value: string): string | number {
  if (spec.kind === 'string') {
    if (spec.choices && !spec.choices.includes(value)) {
      throw new UsageError(`${command}: ${name} must be one of ${spec.choices.join(', ')} (got ${JSON.stringify(value)})`);
    }
    return value;
  }
  const n = spec.kind === 'int' ? (/^-?\d+$/.test(value) ? Number(value) : NaN) : Number(value);
  if (!Number.isFinite(n) || value.trim() === '') {
    throw new UsageError(`${command}: ${name} needs ${spec.kind === 'int' ? 'an integer' : 'a number'}, got ${JSON.stringify(value)}`);
  }
  if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
    throw new UsageError(`${command}: ${name} must be between ${spec.min ?? '-∞'} and ${spec.max ?? '∞'} (got ${n})`);
  }
  return n;
}

/**
 * The reference grammar's `module [class] method`: two words are module + function,
 * three are module + class + method.
 */
export function parseMethodTarget(command: string, positionals: string[]): { module: string; cls?: string; method: string } {
  if (positionals.length === 2) return { module: positionals[0], method: positionals[1] };
  if (positionals.length === 3) return { module: positionals[0], cls: positionals[1], method: positionals[2] };
  throw new UsageError(
    `${command}: expected \`module [class] method\`, got ${positionals.length} word(s)${positionals.length ? ': ' + positionals.join(' ') : ''}`,
    `e.g. \`${command} __main__ MyClass handle\``,
  );
}
