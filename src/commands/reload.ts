// `reload module [class] method [-v] [--undo]`: the method's new definition, read from its
// source file as it is on disk now, replaces the code of the live function in place
// (agent/spyglass_agent/commands/reload/ has the rules and the refusals); `--undo` puts the
// previous code back. Watch, trace, tt and monitor hooks on it stay.
import { parseArgs, parseMethodTarget, type OptionSpec } from './args.js';
import type { ShellCommand } from './types.js';

const OPTIONS: OptionSpec[] = [
  {
    names: ['-v', '--verbose'],
    key: 'verbose',
    kind: 'flag',
    default: false,
    description: 'print the new source of the method (over 20 lines: its first and last 10)',
  },
  { names: ['--undo'], key: 'undo', kind: 'flag', default: false, description: 'put back the code the method ran before its last reload' },
];

interface ReloadAnswer {
  target: string;
  file: string;
  first_line: number;
  last_line?: number;
  source?: string;
  changed?: boolean;
  hooked: boolean;
  undo_depth: number;
  undone?: boolean;
  reloaded_at?: number;
}

/** The reference's shortening of a long source: the first and last 10 lines. */
export function shortenSource(source: string): string[] {
  const lines = source.replace(/\n$/, '').split('\n');
  if (lines.length <= 20) return lines;
  return [...lines.slice(0, 10), `# ... [${lines.length - 20} lines omitted] ...`, ...lines.slice(-10)];
}

export const reloadCommand: ShellCommand = {
  name: 'reload',
  summary: 'Reload a function or method from its source file as it is now, in place: every existing reference runs the new code.',
  description: [
    "The function's code object is swapped, so `from m import f` copies, bound methods held by threads and",
    'callbacks in registries all run the new body from their next call. Methods, class and static methods and',
    "`async def` work; a decorated function's inner function is reloaded (decorators ran once and keep it).",
    'The new body can use only names the module already has (import inside the function otherwise);',
    'default values are evaluated again. Refused, with nothing changed: a built-in, a function defined inside',
    'another function, a file that no longer defines it or does not compile, new free variables.',
    'watch/trace/tt/monitor hooks on the function stay on it. `--undo` restores the code before the last reload.',
  ].join(' '),
  usage: 'reload module [class] method [-v] [--undo]',
  examples: [
    { command: 'reload __main__ func', comment: 'reload a module function from its file' },
    { command: 'reload __main__ classA func -v', comment: 'a method, printing its new source' },
    { command: 'reload --undo __main__ func', comment: 'put back the code it ran before the last reload' },
  ],
  options: OPTIONS,
  async run(ctx, words) {
    const { positionals, options: o } = parseArgs('reload', words, OPTIONS);
    const { module, cls, method } = parseMethodTarget('reload', positionals);
    const a = (await ctx.agent.call('reload', { module, cls, method, undo: o.undo })) as ReloadAnswer;
    ctx.out.record(a);
    const hooks = a.hooked ? '; the hooks on it stay' : '';
    if (a.undone) {
      ctx.out.line(
        `restored ${a.target} as it was before its reload at ${new Date((a.reloaded_at ?? 0) * 1000).toLocaleTimeString()}${hooks}` +
          (a.undo_depth ? ` (${a.undo_depth} earlier reload${a.undo_depth === 1 ? '' : 's'} can still be undone)` : ''),
      );
      return;
    }
    const where = `${a.file}:${a.first_line}-${a.last_line}`;
    if (!a.changed) ctx.out.line(`${a.target} is unchanged in ${where}: nothing reloaded`);
    else
      ctx.out.line(
        `reloaded ${a.target} from ${where} (${(a.last_line ?? a.first_line) - a.first_line + 1} lines)${hooks}; \`reload --undo\` puts the previous code back`,
      );
    if (o.verbose && a.source !== undefined) for (const l of shortenSource(a.source)) ctx.out.line(`    ${l}`);
  },
};
