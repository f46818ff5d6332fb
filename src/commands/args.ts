// Parses a shell command line the way the reference tool's grammar reads it: quoted
// words, long options (--expr) and their unambiguous prefixes (--exp), multi-letter short
// options (-nm, -et, -da), `--opt=value`, and positionals in between. An expression
// option (-f, --expr, -e) takes its value as typed, up to the next option, as the
// reference does, so `-f args[0]["query"]=='hello'` needs no shell quoting; a value
// quoted as one word keeps working. One parser for every shell command, so the grammar
// of all of them behaves the same way.
import { UsageError } from '../errors.js';

/**
 * The words of a command line, remembering where each was typed (`source`, `spans`):
 * what an expression option needs to take its value as typed. A plain string[] works
 * too (every value is then one word).
 */
export interface Words extends Array<string> {
  source?: string;
  /** [start, end) of each word in source */
  spans?: Array<[number, number]>;
}

/** A process id as typed: decimal digits, or hex with 0x as py-spy takes it; `what` prefixes the error. */
export const PID_PATTERN = /^(\d+|0[xX][0-9a-fA-F]+)$/;

/** A process id typed by the user (no sign, exponent or fraction); `what` prefixes the error. */
export function parsePid(word: string, what = '', hint?: string): number {
  const n = Number(word);
  if (!PID_PATTERN.test(word) || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${what}not a process id: '${word}'`, hint);
  return n;
}

/**
 * The pid of a command that takes it as its argument or, as py-spy spells it, as --pid
 * (dump, top): one of the two, or both naming the same process.
 */
export function pidFromArgOrOption(command: string, arg: number | undefined, option: number | undefined): number {
  if (arg !== undefined && option !== undefined && arg !== option)
    throw new UsageError('two different pids given', `give the pid once: \`spyglass ${command} PID\``);
  const pid = arg ?? option;
  if (pid === undefined) throw new UsageError('no process given', `usage: spyglass ${command} PID (or --pid PID)`);
  return pid;
}

/** Splits a command line into words: single and double quotes, backslash escapes. */
export function tokenize(line: string): Words {
  const out: string[] = [];
  const spans: Array<[number, number]> = [];
  let cur = '';
  let start = -1;
  let quote: '"' | "'" | null = null;
  const finish = (end: number) => {
    if (start >= 0) {
      out.push(cur);
      spans.push([start, end]);
    }
    cur = '';
    start = -1;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length && (line[i + 1] === '"' || line[i + 1] === '\\')) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      if (start < 0) start = i;
    } else if (c === '\\' && i + 1 < line.length) {
      if (start < 0) start = i;
      cur += line[++i];
    } else if (/\s/.test(c)) {
      finish(i);
    } else {
      if (start < 0) start = i;
      cur += c;
    }
  }
  if (quote) throw new UsageError(`unterminated ${quote} quote in: ${line}`);
  finish(line.length);
  return typedWords(out, line, spans);
}

/** Attaches where the words were typed, out of sight of comparisons and printing (not enumerable). */
function typedWords(words: string[], source: string, spans: Array<[number, number]>): Words {
  Object.defineProperty(words, 'source', { value: source, enumerable: false });
  Object.defineProperty(words, 'spans', { value: spans, enumerable: false });
  return words;
}

/** The words from index `from` on, still knowing where they were typed. */
export function wordsFrom(words: Words, from: number): Words {
  const out = words.slice(from);
  return words.source !== undefined && words.spans ? typedWords(out, words.source, words.spans.slice(from)) : out;
}

/** Whether text is one quoted string and nothing else (`"a b"`, `'x'`), as a shell would unquote it whole. */
function whollyQuoted(text: string): boolean {
  const q = text[0];
  if (q !== '"' && q !== "'") return false;
  for (let i = 1; i < text.length; i++) {
    if (q === '"' && text[i] === '\\') i++;
    else if (text[i] === q) return i === text.length - 1;
  }
  return false;
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
  /** for int/float: values accepted outside the bounds (-1: no limit) */
  special?: number[];
  /** accepted values for string options */
  choices?: string[];
  /** a Python expression: the value is the text as typed up to the next option */
  expression?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | number | boolean | undefined>;
  /** the options given on the line (by key), as opposed to left at their default */
  given: Set<string>;
}

/**
 * The option a word names: an exact spelling, or an unambiguous prefix of a long one
 * (`--entrance` for `--entrance_time`), as the reference's argparse allows. Undefined
 * when nothing matches; a prefix of several options is a usage error.
 */
export function findOption(command: string, name: string, specs: OptionSpec[]): OptionSpec | undefined {
  const exact = specs.find((s) => s.names.includes(name));
  if (exact || !name.startsWith('--') || name.length < 3) return exact;
  const matches = specs.filter((s) => s.names.some((n) => n.startsWith('--') && n.startsWith(name)));
  if (matches.length > 1) {
    const spellings = matches.map((s) => s.names.find((n) => n.startsWith(name)));
    throw new UsageError(`${command}: ambiguous option ${name} could be ${spellings.join(', ')}`, 'type more of its name');
  }
  return matches[0];
}

/** `-n`, `--expr=...`: a word that stands for an option of the command (not a negative number). */
function optionWord(w: string): string | undefined {
  if (!w.startsWith('-') || w.length < 2 || /^-\d/.test(w)) return undefined;
  const eq = w.indexOf('=');
  return w.startsWith('--') && eq > 0 ? w.slice(0, eq) : w;
}

export function parseArgs(command: string, words: Words, specs: OptionSpec[]): ParsedArgs {
  const options: ParsedArgs['options'] = {};
  const given = new Set<string>();
  for (const s of specs) options[s.key] = s.default;
  const positionals: string[] = [];
  // where each word was typed, when known: an expression's value is then the raw text
  const typed =
    words.source !== undefined && words.spans?.length === words.length ? { source: words.source, spans: words.spans } : undefined;
  const startsOption = (j: number) => {
    if (words[j] === '--') return true;
    const name = optionWord(words[j]);
    if (!name || (typed && !typed.source.startsWith('-', typed.spans[j][0]))) return false;
    try {
      return findOption(command, name, specs) !== undefined;
    } catch {
      return true; // ambiguous: an option all the same (reported when it is parsed)
    }
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === '--') {
      positionals.push(...words.slice(i + 1));
      break;
    }
    const name = optionWord(w);
    if (name === undefined) {
      positionals.push(w);
      continue;
    }
    const spec = findOption(command, name, specs);
    if (!spec) {
      const near = specs.flatMap((s) => s.names).filter((n) => n.startsWith(name.slice(0, 2)));
      throw new UsageError(
        `${command}: unknown option ${name}`,
        near.length ? `options of ${command}: ${near.join(', ')}` : `see \`help ${command}\``,
      );
    }
    given.add(spec.key);
    if (spec.kind === 'flag') {
      options[spec.key] = true;
      continue;
    }
    let value: string;
    if (name !== w) {
      value = w.slice(name.length + 1);
      const from = typed ? typed.spans[i][0] + typed.source.slice(typed.spans[i][0]).indexOf('=') + 1 : 0;
      if (spec.expression && typed && !whollyQuoted(typed.source.slice(from, typed.spans[i][1]))) {
        // `--expr={args, return_obj}`: from after the `=` to the next option
        let last = i;
        while (last + 1 < words.length && !startsOption(last + 1)) last++;
        value = typed.source.slice(from, typed.spans[last][1]);
        i = last;
      }
    } else if (i + 1 < words.length) {
      value = words[++i];
      if (spec.expression && typed && !whollyQuoted(typed.source.slice(...typed.spans[i]))) {
        // as typed, up to the next option: `-f return_obj['ok']==True and cost>10`
        let last = i;
        while (last + 1 < words.length && !startsOption(last + 1)) last++;
        value = typed.source.slice(typed.spans[i][0], typed.spans[last][1]);
        i = last;
      }
    } else throw new UsageError(`${command}: option ${name} needs a value`, `e.g. ${name} ${spec.metavar ?? '<value>'}`);
    options[spec.key] = convert(command, name, spec, value);
  }
  return { positionals, options, given };
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
  if (!spec.special?.includes(n) && ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max))) {
    const also = spec.special?.length ? ` or ${spec.special.join(', ')}` : '';
    const range =
      spec.min !== undefined && spec.max !== undefined
        ? `between ${spec.min} and ${spec.max}`
        : spec.min !== undefined
          ? `at least ${spec.min}`
          : `at most ${spec.max}`;
    throw new UsageError(`${command}: ${name} must be ${range}${also} (got ${n})`);
  }
  return n;
}

/**
 * The reference grammar's named form of `module [class] name`: `--mod` (`--pkg`, watch's
 * spelling there), `--cls`, and `--func` (getglobal: `--var`), each instead of its word.
 */
export function locationOptions(last: 'func' | 'var' = 'func'): OptionSpec[] {
  const what = last === 'func' ? 'function or method' : 'variable';
  return [
    { names: ['--mod', '--pkg'], key: 'mod', kind: 'string', metavar: '<module>', description: 'the module (instead of the first word)' },
    { names: ['--cls'], key: 'cls', kind: 'string', metavar: '<class>', description: 'the class (instead of the middle word)' },
    { names: [`--${last}`], key: last, kind: 'string', metavar: `<${last}>`, description: `the ${what} (instead of the last word)` },
  ];
}

/**
 * `module [class] name` from the words and the named options (locationOptions), as the
 * reference tool rewrites them: each part named by its option, the others taken by the
 * words in order, the class left out when there is one word fewer (`watch __main__ --func
 * f`, `watch __main__ Cls --func f`, `trace --mod m --cls C --func f`). Two words are module
 * + name, three are module + class + name.
 */
export function parseMethodTarget(
  command: string,
  positionals: string[],
  named: Record<string, unknown> = {},
  last: 'func' | 'var' = 'func',
): { module: string; cls?: string; method: string } {
  const keys = ['mod', 'cls', last];
  const given = keys.map((k) => (typeof named[k] === 'string' ? (named[k] as string) : undefined));
  let open = keys.filter((_, i) => given[i] === undefined);
  if (positionals.length === open.length - 1 && open.includes('cls')) open = open.filter((k) => k !== 'cls');
  if (positionals.length !== open.length) {
    const words = positionals.length ? ': ' + positionals.join(' ') : '';
    throw new UsageError(
      `${command}: expected \`module [class] ${last === 'func' ? 'method' : 'field'}\`, got ${positionals.length} word(s)${words}` +
        (given.some((g) => g !== undefined)
          ? ` besides ${keys
              .filter((_, i) => given[i] !== undefined)
              .map((k) => `--${k}`)
              .join(', ')}`
          : ''),
      `e.g. \`${command} __main__ MyClass handle\` or \`${command} --mod __main__ --cls MyClass --${last} handle\``,
    );
  }
  const value = (k: string) => given[keys.indexOf(k)] ?? positionals[open.indexOf(k)];
  const cls = value('cls');
  return { module: value('mod'), ...(cls !== undefined ? { cls } : {}), method: value(last) };
}
