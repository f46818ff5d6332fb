// `reload module [class] method [-v] [--undo]`: the method's new definition, read from its
// source file as it is on disk now, replaces the code of the live function in place
// (agent/spyglass_agent/commands/reload/ has the rules and the refusals); `--undo` puts the
// previous code back. Watch, trace, tt and monitor hooks on it stay.
import { UserError } from '../errors.js';
import { locationOptions, parseArgs, parseMethodTarget, type OptionSpec } from './args.js';
import { type CommandModel, shellCommand } from './model.js';

const OPTIONS: OptionSpec[] = [
  {
    names: ['-v', '--verbose'],
    key: 'verbose',
    kind: 'flag',
    default: false,
    description: 'print the whole new source of the method (without -v: over 20 lines, its first and last 10)',
  },
  { names: ['--undo'], key: 'undo', kind: 'flag', default: false, description: 'put back the code the method ran before its last reload' },
  // the reference tool's named form of the three words: reload --mod m [--cls c] --func f
  ...locationOptions('func'),
];

export interface ReloadAnswer {
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

export interface ReloadRequest {
  module: string;
  cls?: string;
  method: string;
  undo: boolean;
  /** print the new source (the view's, not the agent's) */
  verbose: boolean;
}

export const reloadModel: CommandModel<ReloadRequest, { reload: ReloadAnswer }> = {
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
  usage: 'reload module [class] method [-v] [--undo]  |  reload --mod module [--cls class] --func method',
  examples: [
    { command: 'reload __main__ func', comment: 'reload a module function from its file' },
    { command: 'reload __main__ classA func -v', comment: 'a method, printing its new source' },
    { command: 'reload --undo __main__ func', comment: 'put back the code it ran before the last reload' },
    { command: 'reload --mod __main__ --cls classA --func func', comment: 'the same target, named by options' },
  ],
  options: OPTIONS,
  runsIn: 'agent',
  parse(words) {
    const { positionals, options: o } = parseArgs('reload', words, OPTIONS);
    return { ...parseMethodTarget('reload', positionals, o), undo: o.undo as boolean, verbose: o.verbose as boolean };
  },
  async *execute(ctx, req) {
    const { verbose: _verbose, ...args } = req;
    const a = (await ctx.agent.call('reload', args)) as ReloadAnswer;
    // the reference's words, and its verdict: an error, nothing was replaced; an answer
    // about the target, so on stdout where its scripts read it (docs/reference-words.md)
    if (a.changed === false) {
      const e = new UserError(
        `Method source has not changed: ${a.target} is as ${a.file}:${a.first_line}-${a.last_line} defines it, nothing replaced`,
        'save the new code to that file first',
      );
      e.answer = true;
      throw e;
    }
    yield { kind: 'reload', data: a };
  },
  textView(req, out) {
    return ({ data: a }) => {
      const hooks = a.hooked ? '; the hooks on it stay' : '';
      if (a.undone) {
        out.line(
          `restored ${a.target} as it was before its reload at ${new Date((a.reloaded_at ?? 0) * 1000).toLocaleTimeString()}${hooks}` +
            (a.undo_depth ? ` (${a.undo_depth} earlier reload${a.undo_depth === 1 ? '' : 's'} can still be undone)` : ''),
        );
        return;
      }
      const where = `${a.file}:${a.first_line}-${a.last_line}`;
      // the reference tool's words and fields first, which scripts look for
      out.line(
        `Reload is done successfully: reloaded ${a.target} from ${where} (${(a.last_line ?? a.first_line) - a.first_line + 1} lines)${hooks}; \`reload --undo\` puts the previous code back`,
      );
      out.line(`Located file path: ${a.file}`);
      if (a.source === undefined) return;
      out.line('Extracted method source:');
      const lines = req.verbose ? a.source.replace(/\n$/, '').split('\n') : shortenSource(a.source);
      for (const l of lines) out.line(`    ${l}`);
    };
  },
};

export const reloadCommand = shellCommand(reloadModel);
