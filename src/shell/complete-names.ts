// Tab completion of the `module [class] method` words (watch, trace, monitor, tt -t,
// getglobal, vmtool -c, mem refs...) with the names loaded in the target. Where those
// words sit is read from the command's usage line, the same grammar `help` shows, so a
// command gets this completion without code of its own.
import type { OptionSpec } from '../commands/args.js';
import type { CommandContext, ShellCommand } from '../commands/types.js';

/** One word of the usage line that takes a positional: a literal (`refs`) or a slot (`module`). */
interface Slot {
  word: string;
  optional: boolean;
}

/** The spellings of the options that take a value (the next word is that value, not a positional). */
function valueOptionNames(options: OptionSpec[]): Set<string> {
  return new Set(options.filter((o) => o.kind !== 'flag').flatMap((o) => o.names));
}

/** The positional slots of the usage alternative that names a module, up to that group's end. */
export function moduleSlots(cmd: Pick<ShellCommand, 'name' | 'usage' | 'options'>): Slot[][] {
  const valueTaking = valueOptionNames(cmd.options);
  const out: Slot[][] = [];
  for (const alternative of cmd.usage.split(' | ')) {
    const tokens = alternative.trim().split(/\s+/);
    if (tokens[0] === cmd.name) tokens.shift();
    const slots: Slot[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const optional = tokens[i].startsWith('[');
      const word = tokens[i].replace(/[[\]]/g, '');
      if (word.startsWith('-')) {
        if (valueTaking.has(word)) i++;
        continue;
      }
      if (!/^[a-z]+$/.test(word)) break;
      slots.push({ word, optional });
    }
    if (slots.some((s) => s.word === 'module')) out.push(slots);
  }
  return out;
}

/** The positional words of a command line: option names and their values left out. */
export function positionalWords(words: string[], options: OptionSpec[]): string[] {
  const valueTaking = valueOptionNames(options);
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w.startsWith('-') && w.length > 1 && !/^-\d/.test(w)) {
      if (valueTaking.has(w)) i++;
      continue;
    }
    out.push(w);
  }
  return out;
}

interface NamedThing {
  name: string;
  kind: 'module' | 'class' | 'function' | 'value';
}

/** Which kinds of name fit the slot after the module/class (`method`: callables, `field`: anything). */
function fits(slotAfter: string | undefined, kind: NamedThing['kind'], classAllowed: boolean): boolean {
  if (kind === 'class' && classAllowed) return true;
  if (slotAfter === 'method') return kind === 'function';
  if (slotAfter === 'field') return kind !== 'module';
  return false;
}

/**
 * Candidates for `current` when it stands in a module/class/method slot of `cmd`; undefined
 * when the word is not one of those (the caller then offers nothing).
 */
export async function completeTargetNames(
  ctx: CommandContext,
  cmd: ShellCommand,
  words: string[],
  current: string,
): Promise<string[] | undefined> {
  // the word being typed is an option's value: not a name
  if (valueOptionNames(cmd.options).has(words[words.length - 1])) return undefined;
  const typed = positionalWords(words, cmd.options);
  for (const slots of moduleSlots(cmd)) {
    const m = slots.findIndex((s) => s.word === 'module');
    // literal words before the module (`mem refs module class`) must be the ones typed
    if (slots.slice(0, m).some((s, i) => typed[i] !== undefined && typed[i] !== s.word)) continue;
    const at = typed.length - m;
    const names = async (args: Record<string, unknown>) =>
      ((await ctx.agent.call('complete_names', { ...args, prefix: current })) as { names: NamedThing[] }).names;
    if (at === 0) return (await names({})).map((n) => n.name);
    const second = slots[m + 1];
    if (!second) return undefined;
    if (at === 1) {
      // `module [class] method`: a class or a module-level function; `module class`: a class
      const after = second.optional ? slots[m + 2]?.word : undefined;
      const found = await names({ module: typed[m] });
      return found.filter((n) => fits(after, n.kind, second.word === 'class')).map((n) => n.name);
    }
    if (at === 2 && second.optional && second.word === 'class' && slots[m + 2]) {
      const found = await names({ module: typed[m], cls: typed[m + 1] });
      return found.filter((n) => fits(slots[m + 2].word, n.kind, false)).map((n) => n.name);
    }
    return undefined;
  }
  return undefined;
}
