// `help` and `help CMD` in the reference tool's layout (USAGE / SUMMARY / EXAMPLES /
// OPTIONS), generated from each ShellCommand's own description so help never drifts
// from the grammar the parser accepts, and wrapped to the terminal by the formatter the
// top-level --help uses too (help-text.ts): a summary or description is just a paragraph.
import type { OptionSpec } from '../commands/args.js';
import type { ShellCommand } from '../commands/types.js';
import { DEFAULT_WIDTH, formatItem, wrapText, wrapWords } from '../help-text.js';

/** The shell's own commands, listed by `help` after the registered ones. */
export const BUILTIN_HELP: Array<{ name: string; summary: string }> = [
  { name: 'help', summary: "Show the commands, or one command's usage, examples and options: help [command]" },
  { name: 'quit', summary: "Leave the shell; this session's hooks are removed (also: exit, Ctrl-D)" },
  { name: 'detach', summary: "Remove this session's hooks, disconnect and leave; the agent stays for the next attach" },
  {
    name: 'history',
    summary: 'The lines typed at the shell, most recent last: history [-c|--clear] [-n|--limits N] (default 20; -c empties it)',
  },
  { name: 'cls', summary: 'Clear the screen' },
];

function optionLabel(o: OptionSpec): string {
  const names = o.names.join(', ');
  return o.kind === 'flag' ? names : `${names} ${o.metavar ?? '<value>'}`;
}

function optionText(o: OptionSpec): string {
  let text = o.description;
  if (o.choices) text += ` (one of: ${o.choices.join(', ')})`;
  // many descriptions already say their default in their own words
  if (o.default !== undefined && o.kind !== 'flag' && !/\bdefault\b/.test(o.description)) text += ` (default: ${o.default})`;
  return text;
}

/** The words of a usage line, an option in brackets with its value (`[-f <value>]`) kept as one. */
function usageWords(usage: string): string[] {
  return usage.match(/\[[^\]]*\]|\S+/g) ?? [];
}

/** `help CMD`, wrapped to `width` columns (help-text.ts); examples as written. */
export function renderCommandHelp(cmd: ShellCommand, width = DEFAULT_WIDTH): string {
  const out = ['USAGE:'];
  // one line per form of the command (`torch profile ... | torch memory ...`)
  for (const form of cmd.usage.split(' | ')) out.push(...wrapWords(usageWords(form), width, '  ', '      '));
  out.push('', 'SUMMARY:', ...wrapText(cmd.summary, width, '  '));
  if (cmd.description) out.push('', ...wrapText(cmd.description, width, '  '));
  if (cmd.examples.length) {
    out.push('', 'EXAMPLES:');
    const commandWidth = Math.max(...cmd.examples.map((e) => e.command.length));
    for (const e of cmd.examples) out.push(`  ${e.command.padEnd(commandWidth)}   # ${e.comment}`);
  }
  if (cmd.options.length) {
    out.push('', 'OPTIONS:');
    const termWidth = Math.max(33, ...cmd.options.map((o) => optionLabel(o).length + 1));
    for (const o of cmd.options) out.push(...formatItem(optionLabel(o), optionText(o), { width, indent: 0, termWidth }));
  }
  return out.join('\n');
}

/** `help`: every command with its summary, wrapped to `width` columns. */
export function renderCommandList(commands: ShellCommand[], width = DEFAULT_WIDTH): string {
  const all = [...commands.map((c) => ({ name: c.name, summary: c.summary })), ...BUILTIN_HELP];
  const termWidth = Math.max(...all.map((c) => c.name.length));
  return [
    'COMMANDS:',
    // column headings as the reference tool's help has them
    ...formatItem('NAME', 'DESCRIPTION', { width, indent: 2, termWidth }),
    ...all.flatMap((c) => formatItem(c.name, c.summary, { width, indent: 2, termWidth })),
    '',
    ...wrapText('Type `help COMMAND` for its usage, examples and options.', width),
  ].join('\n');
}
