// `help` and `help CMD` in the reference tool's layout (USAGE / SUMMARY / EXAMPLES /
// OPTIONS), generated from each ShellCommand's own description so help never drifts
// from the grammar the parser accepts.
import type { OptionSpec } from '../commands/args.js';
import type { ShellCommand } from '../commands/types.js';

/** The shell's own commands, listed by `help` after the registered ones. */
export const BUILTIN_HELP: Array<{ name: string; summary: string }> = [
  { name: 'help', summary: 'Show the commands, or one command\'s usage, examples and options: help [command]' },
  { name: 'quit', summary: 'Leave the shell; this session\'s hooks are removed (also: exit, Ctrl-D)' },
  { name: 'detach', summary: 'Remove this session\'s hooks, disconnect and leave; the agent stays for the next attach' },
  { name: 'history', summary: 'The lines typed at the shell, most recent last: history [-c|--clear] [-n|--limits N] (default 20; -c empties it)' },
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

export function renderCommandHelp(cmd: ShellCommand): string {
  const out = ['USAGE:', `  ${cmd.usage}`, '', 'SUMMARY:', `  ${cmd.summary}`];
  if (cmd.description) out.push(...cmd.description.split('\n').map((l) => (l ? `  ${l}` : '')));
  if (cmd.examples.length) {
    out.push('', 'EXAMPLES:');
    const width = Math.max(...cmd.examples.map((e) => e.command.length));
    for (const e of cmd.examples) out.push(`  ${e.command.padEnd(width)}   # ${e.comment}`);
  }
  if (cmd.options.length) {
    out.push('', 'OPTIONS:');
    const width = Math.max(34, ...cmd.options.map((o) => optionLabel(o).length + 2));
    for (const o of cmd.options) out.push(`${optionLabel(o).padEnd(width)} ${optionText(o)}`);
  }
  return out.join('\n');
}

export function renderCommandList(commands: ShellCommand[]): string {
  const all = [...commands.map((c) => ({ name: c.name, summary: c.summary })), ...BUILTIN_HELP];
  const width = Math.max(...all.map((c) => c.name.length)) + 2;
  return ['COMMANDS:', ...all.map((c) => `  ${c.name.padEnd(width)}${c.summary}`), '', 'Type `help COMMAND` for its usage, examples and options.'].join('\n');
}
