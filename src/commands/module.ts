// `module FILEPATH`: the module name a file is loaded under in the target, so a file from
// a traceback turns into a `watch module function` command. The path is made absolute
// here (the user's cwd and ~), the agent also tries the target's cwd, and both sides
// resolve symlinks.
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { realpathSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { parseArgs, type OptionSpec } from './args.js';
import { type CommandModel, shellCommand } from './model.js';

interface ModuleMatch {
  module: string;
  file: string;
}
interface ModuleAnswer {
  wanted: string[];
  matches: ModuleMatch[];
  exists: boolean;
  same_basename: ModuleMatch[];
}

/** The typed path as the user meant it: ~ expanded, relative to their cwd, symlinks resolved when it exists here. */
export function clientPath(typed: string, cwd: string): string {
  const expanded = typed === '~' || typed.startsWith('~/') ? homedir() + typed.slice(1) : typed;
  const abs = isAbsolute(expanded) ? expanded : resolve(cwd, expanded);
  try {
    return realpathSync(abs);
  } catch {
    return abs;
  }
}

/** Where a file is loaded in the target, as --json prints it. */
export interface ModuleFound {
  path: string;
  loaded: boolean;
  modules: ModuleMatch[];
  resolved: string[];
  exists: boolean;
  /** files of the same name that are loaded (a hint when this one is not) */
  same_basename: ModuleMatch[];
}

// the reference's spelling of the path word
const OPTIONS: OptionSpec[] = [
  { names: ['--filepath'], key: 'filepath', kind: 'string', metavar: '<path>', description: 'the file (instead of the path word)' },
];

export const moduleModel: CommandModel<{ pid: number; path: string; client_path: string }, { module: ModuleFound }> = {
  name: 'module',
  summary: 'Show the module name a source file is loaded under in the target (or that it is not loaded).',
  usage: 'module filepath',
  examples: [
    { command: 'module ~/tt_main.py', comment: 'the script the target was started with: __main__' },
    { command: 'module app/handlers.py', comment: "relative to this directory (or the target's)" },
    { command: 'module /srv/app/not_imported.py', comment: 'a file the target has not imported: "not loaded"' },
  ],
  options: OPTIONS,
  runsIn: 'agent',
  parse(words, at) {
    const { positionals, options } = parseArgs('module', words, OPTIONS);
    const paths = [...positionals, ...(options.filepath !== undefined ? [options.filepath as string] : [])];
    if (paths.length !== 1) {
      throw new UsageError(`module: expected one file path, got ${paths.length}`, 'e.g. `module ./app/server.py`');
    }
    return { pid: at.pid, path: paths[0], client_path: clientPath(paths[0], at.cwd) };
  },
  async *execute(ctx, req) {
    const { pid: _pid, ...args } = req;
    const answer = (await ctx.agent.call('module', args)) as ModuleAnswer;
    yield {
      kind: 'module',
      data: {
        path: req.path,
        loaded: answer.matches.length > 0,
        modules: answer.matches,
        resolved: answer.wanted,
        exists: answer.exists,
        same_basename: answer.same_basename,
      },
    };
  },
  textView(req, out) {
    return ({ data: r }) => {
      if (r.modules.length) {
        for (const m of r.modules) out.line(`${m.module}  (${m.file})`);
        out.note(`e.g. \`watch ${r.modules[0].module} <function>\` or \`getglobal ${r.modules[0].module} <name>\``);
        return;
      }
      out.line(`${r.path}: not loaded in process ${req.pid}` + (r.exists ? '' : " (no such file in the target's view)"));
      for (const m of r.same_basename) out.line(`  a file with the same name is loaded as ${m.module}  (${m.file})`);
    };
  },
};

export const moduleCommand = shellCommand(moduleModel);
