// Runs one command line against the attached agent: the same path for the interactive
// shell and for one-shot `spyglass PID --cmd "..."`. Built-ins (help, quit/exit, detach)
// are handled here; everything else is a ShellCommand from the registry.
import { ProcessGoneError, UsageError, UserError } from '../errors.js';
import { parseArgs, tokenize, wordsFrom, type OptionSpec, type Words } from '../commands/args.js';
import { hasExited } from '../proc/process.js';
import { COMMANDS, findCommand } from '../commands/registry.js';
import type { CommandContext, ShellCommand } from '../commands/types.js';
import { DEFAULT_WIDTH, wrapText } from '../help-text.js';
import { BUILTIN_HELP, renderCommandHelp, renderCommandList } from './help.js';
import { clearHistory, historyLines, historyPath } from './history.js';

export const QUIT_WORDS = ['quit', 'exit'];
export const BUILTIN_NAMES = [...BUILTIN_HELP.map((b) => b.name), 'exit'];

/** What the shell should do after a line: keep reading, or leave (detaching). */
export type LineOutcome = 'continue' | 'quit';

export function allCommands(): ShellCommand[] {
  return COMMANDS;
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

function unknownCommand(name: string): UsageError {
  const names = [...COMMANDS.map((c) => c.name), ...BUILTIN_NAMES];
  // the closest spellings (a typo or two away), else the names that start alike
  const distance = new Map(names.map((n) => [n, editDistance(n, name)]));
  const best = Math.min(...distance.values());
  const near =
    best <= 2 ? names.filter((n) => distance.get(n) === best) : names.filter((n) => n.startsWith(name.slice(0, 2)) || name.startsWith(n));
  return new UsageError(
    `unknown command: ${name}`,
    near.length ? `did you mean ${near.join(', ')}? (\`help\` lists all)` : '`help` lists the commands',
  );
}

function help(ctx: CommandContext, words: string[]): void {
  if (words.length > 1) throw new UsageError('help takes at most one command name', 'e.g. `help watch`');
  if (words.length === 0) {
    ctx.out.line(renderCommandList(COMMANDS, ctx.out.width));
    ctx.out.record({ commands: [...COMMANDS.map((c) => ({ name: c.name, summary: c.summary })), ...BUILTIN_HELP] });
    return;
  }
  const cmd = findCommand(words[0]);
  if (!cmd) {
    const builtin = BUILTIN_HELP.find((b) => b.name === words[0] || (words[0] === 'exit' && b.name === 'quit'));
    if (!builtin) throw unknownCommand(words[0]);
    ctx.out.line(wrapText(builtin.summary, ctx.out.width ?? DEFAULT_WIDTH).join('\n'));
    ctx.out.record(builtin);
    return;
  }
  ctx.out.line(renderCommandHelp(cmd, ctx.out.width));
  ctx.out.record({ name: cmd.name, usage: cmd.usage, summary: cmd.summary, examples: cmd.examples, options: cmd.options });
}

const HISTORY_OPTIONS: OptionSpec[] = [
  { names: ['-c', '--clear'], key: 'clear', kind: 'flag', default: false, description: 'empty the history' },
  {
    names: ['-n', '--limits', '--limit'],
    key: 'limit',
    kind: 'int',
    default: 20,
    min: 1,
    metavar: '<value>',
    description: 'how many lines to show',
  },
];

/** `history [-c] [-n N]`: the last N lines of the saved history, numbered from the oldest kept. */
function history(ctx: CommandContext, words: Words): void {
  const { positionals, options } = parseArgs('history', words, HISTORY_OPTIONS);
  if (positionals.length)
    throw new UsageError(`history takes no words (got ${positionals.join(' ')})`, 'e.g. `history -n 30`, `history -c`');
  if (options.clear) {
    if (!clearHistory()) throw new UserError(`could not empty ${historyPath()}`, "check that file's permissions");
    ctx.interactive?.clearHistory?.();
    ctx.out.record({ cleared: true });
    ctx.out.line('history cleared');
    return;
  }
  const all = historyLines();
  const first = Math.max(0, all.length - (options.limit as number));
  const shown = all.slice(first).map((line, i) => ({ n: first + i + 1, line }));
  ctx.out.record({ history: shown });
  const width = String(all.length).length;
  for (const h of shown) ctx.out.line(`${String(h.n).padStart(width + 2)}  ${h.line}`);
}

/**
 * The error that ends a shell or a one-shot command when the agent's connection closed
 * under it. A dying process closes its sockets before it is gone: wait a moment to tell
 * "the process exited" from "the agent went away".
 */
export async function connectionLost(pid: number, reason: string): Promise<UserError> {
  for (let waited = 0; waited < 500 && !hasExited(pid); waited += 25) await new Promise((r) => setTimeout(r, 25));
  if (hasExited(pid)) return new ProcessGoneError(pid, `process ${pid} exited`);
  return new UserError(`lost the connection to process ${pid}: ${reason}`, 'attach again with `spyglass PID`');
}

/** Runs one line; throws UserError/UsageError for the caller to print. */
export async function runLine(ctx: CommandContext, line: string): Promise<LineOutcome> {
  const words = tokenize(line);
  if (words.length === 0) return 'continue';
  const name = words[0];
  const rest = wordsFrom(words, 1);
  if (QUIT_WORDS.includes(name) || name === 'detach') {
    if (rest.length) throw new UsageError(`${name} takes no arguments`);
    return 'quit';
  }
  if (name === 'help') {
    help(ctx, rest);
    return 'continue';
  }
  if ((name === 'history' || name === 'cls') && (rest.includes('--help') || rest.includes('-h'))) {
    help(ctx, [name]);
    return 'continue';
  }
  if (name === 'history') {
    history(ctx, rest);
    return 'continue';
  }
  if (name === 'cls') {
    if (rest.length) throw new UsageError('cls takes no arguments');
    ctx.out.clearScreen?.();
    return 'continue';
  }
  const cmd = findCommand(name);
  if (!cmd) throw unknownCommand(name);
  // `CMD --help` / `CMD -h` print help like the top-level tool does (unless the command has a -h of its own)
  if ((rest.includes('--help') || rest.includes('-h')) && !cmd.options.some((o) => o.names.includes('-h') || o.names.includes('--help'))) {
    help(ctx, [name]);
    return 'continue';
  }
  await cmd.run(ctx, rest);
  return 'continue';
}
