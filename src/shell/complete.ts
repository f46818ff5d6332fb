// Tab completion for the shell: command names for the first word, option names for a
// word starting with '-', a command's forms for its first word (`gilstat on|off`), and
// otherwise whatever the command's own `complete` hook offers, or else the module, class
// and function names its usage line asks for (asked from the target: complete-names.ts).
import { tokenize } from '../commands/args.js';
import type { CommandContext, ShellCommand } from '../commands/types.js';
import { completeTargetNames } from './complete-names.js';
import { BUILTIN_NAMES } from './dispatch.js';

/** Splits the line at the cursor into finished words and the word being typed. */
export function splitForCompletion(line: string): { words: string[]; current: string } {
  const endsInSpace = /\s$/.test(line) || line === '';
  let words: string[];
  try {
    words = tokenize(line);
  } catch {
    // an open quote: complete the raw last word
    words = line.split(/\s+/).filter(Boolean);
  }
  if (endsInSpace) return { words, current: '' };
  return { words: words.slice(0, -1), current: words[words.length - 1] ?? '' };
}

/** The words that choose between a command's forms (`gilstat on|off`, `mem summary|diff|...`):
 * the first word of each ` | `-separated alternative of its usage line, when it is a literal. */
export function subcommands(cmd: Pick<ShellCommand, 'name' | 'usage'>): string[] {
  const alternatives = cmd.usage.split(' | ');
  if (alternatives.length < 2) return []; // `watch module ...`: the first word is a slot
  const firsts = alternatives.map(
    (a) =>
      a
        .trim()
        .split(/\s+/)
        .filter((w) => w !== cmd.name)[0] ?? '',
  );
  return firsts.every((w) => /^[a-z]+$/.test(w)) ? [...new Set(firsts)] : [];
}

/** Candidates for the word being typed, and that word (what readline replaces). */
export async function complete(line: string, commands: ShellCommand[], ctx: CommandContext | undefined): Promise<[string[], string]> {
  const { words, current } = splitForCompletion(line);
  const matching = (xs: Iterable<string>) => [...new Set(xs)].filter((x) => x.startsWith(current)).sort();
  if (words.length === 0) return [matching([...commands.map((c) => c.name), ...BUILTIN_NAMES]), current];
  if (words[0] === 'help' && words.length === 1) return [matching([...commands.map((c) => c.name), ...BUILTIN_NAMES]), current];
  const cmd = commands.find((c) => c.name === words[0]);
  if (!cmd) return [[], current];
  const valued = cmd.options.find((o) => o.kind !== 'flag' && o.names.includes(words[words.length - 1]));
  if (valued) return [matching(valued.choices ?? []), current];
  if (current.startsWith('-')) return [matching(cmd.options.flatMap((o) => o.names)), current];
  const forms = subcommands(cmd);
  if (words.length === 1 && forms.length) return [matching(forms), current];
  if (!ctx) return [[], current];
  try {
    const found = cmd.complete
      ? await cmd.complete(ctx, words.slice(1), current)
      : await completeTargetNames(ctx, cmd, words.slice(1), current);
    return [matching(found ?? []), current];
  } catch {
    // completion is a convenience: a failing lookup offers nothing rather than an error
    return [[], current];
  }
}
