// `module FILEPATH`: the module name a file is loaded under in the target, so a file from
// a traceback turns into a `watch module function` command. The path is made absolute
// here (the user's cwd and ~), the agent also tries the target's cwd, and both sides
// resolve symlinks.
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { realpathSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { parseArgs } from './args.js';
import type { ShellCommand } from './types.js';

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

export const moduleCommand: ShellCommand = {
  name: 'module',
  summary: 'Show the module name a source file is loaded under in the target (or that it is not loaded).',
  usage: 'module filepath',
  examples: [
    { command: 'module ~/tt_main.py', comment: 'the script the target was started with: __main__' },
    { command: 'module app/handlers.py', comment: "relative to this directory (or the target's)" },
    { command: 'module /srv/app/not_imported.py', comment: 'a file the target has not imported: "not loaded"' },
  ],
  options: [],
  async run(ctx, words) {
    const { positionals } = parseArgs('module', words, []);
    if (positionals.length !== 1) {
      throw new UsageError(`module: expected one file path, got ${positionals.length}`, 'e.g. `module ./app/server.py`');
    }
    const typed = positionals[0];
    const answer = (await ctx.agent.call('module', { path: typed, client_path: clientPath(typed, ctx.cwd) })) as ModuleAnswer;
    ctx.out.record({
      path: typed,
      loaded: answer.matches.length > 0,
      modules: answer.matches,
      resolved: answer.wanted,
      exists: answer.exists,
    });
    if (answer.matches.length) {
      for (const m of answer.matches) ctx.out.line(`${m.module}  (${m.file})`);
      ctx.out.note(`e.g. \`watch ${answer.matches[0].module} <function>\` or \`getglobal ${answer.matches[0].module} <name>\``);
      return;
    }
    ctx.out.line(`${typed}: not loaded in process ${ctx.pid}` + (answer.exists ? '' : " (no such file in the target's view)"));
    for (const m of answer.same_basename) ctx.out.line(`  a file with the same name is loaded as ${m.module}  (${m.file})`);
  },
};
