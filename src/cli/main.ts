#!/usr/bin/env node
// Entry point of the `spyglass` command: builds the commander program from the
// subcommand modules and turns errors into one clear line and an exit code (README,
// "Exit status and streams").
import { Command, CommanderError } from 'commander';
import { DEFAULT_WIDTH, formatItem, helpWidth, wrapText } from '../help-text.js';
import { EXIT_INTERNAL, EXIT_USAGE, UserError, formatUserError } from '../errors.js';
import { AgentCommandError } from '../channel/agent-error.js';
import { wasInterrupted, watchOutputStreams } from '../run-end.js';
import { routeBarePid } from './bare-pid.js';
import { subcommandsFor } from './subcommands.js';

/** Commander's help laid out by the formatter the shell's `help` uses too (help-text.ts). */
function useHelpFormatter(program: Command): void {
  program.configureOutput({ getOutHelpWidth: () => helpWidth(process.stdout), getErrHelpWidth: () => helpWidth(process.stderr) });
  program.configureHelp({
    boxWrap: (text, width) => wrapText(text, width).join('\n'),
    formatItem: (term, termWidth, description, helper) =>
      formatItem(term, description, { width: helper.helpWidth ?? DEFAULT_WIDTH, indent: 2, termWidth }).join('\n'),
    // the usage line is the only text commander does not wrap itself
    styleUsage(usage) {
      const indent = ' '.repeat('Usage: '.length);
      return wrapText(usage, this.helpWidth ?? DEFAULT_WIDTH, indent)
        .join('\n')
        .slice(indent.length);
    },
  });
}

/** The program, with the subcommands argv needs (subcommandsFor). */
async function buildProgram(argv: string[]): Promise<Command> {
  const program = new Command();
  // before the subcommands are added: they inherit it
  useHelpFormatter(program);
  program
    .name('spyglass')
    .description('Look inside a running Python process without restarting it.')
    .version('0.1.0')
    .option('--debug', 'print stack traces of internal errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const registers = await Promise.all(subcommandsFor(argv).map((s) => s.load()));
  for (const register of registers) register(program);
  return program;
}

/** With --json a script reads stdout: a failure goes there too, as one JSON line (the
 * human line stays on stderr). */
function jsonError(type: string, message: string, exitCode: number, hint?: string): void {
  process.stdout.write(JSON.stringify({ event: 'error', type, message, ...(hint ? { hint } : {}), exit_code: exitCode }) + '\n');
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const json = argv.includes('--json');
  try {
    const routed = routeBarePid(argv);
    const program = await buildProgram(routed);
    await program.parseAsync(routed);
    // a status the command chose (launch mode: the program's own) comes first
    if (process.exitCode !== undefined) return Number(process.exitCode);
    return wasInterrupted() ? 130 : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version end up here too, with exit code 0 (commander printed the message)
      if (err.exitCode === 0) return 0;
      if (json) jsonError('UsageError', err.message.replace(/^error: /, ''), EXIT_USAGE);
      return EXIT_USAGE;
    }
    if (err instanceof UserError) {
      // (with --json the answer is the JSON line on stdout)
      (err.answer && !json ? process.stdout : process.stderr).write(formatUserError(err) + '\n');
      if (debug && err.stack) process.stderr.write(err.stack + '\n');
      // the agent's own type (ModuleNotFound, ExpressionFailed...) says more than the class
      if (json) jsonError(err instanceof AgentCommandError ? err.type : err.name, err.message, err.exitCode, err.hint);
      return err.exitCode;
    }
    const e = err as Error;
    process.stderr.write(`spyglass: internal error: ${e?.message ?? String(err)}\n`);
    process.stderr.write(debug && e?.stack ? e.stack + '\n' : '  (run with --debug for the stack trace)\n');
    if (json) jsonError('InternalError', e?.message ?? String(err), EXIT_INTERNAL);
    return EXIT_INTERNAL;
  }
}

watchOutputStreams();
main(process.argv).then((code) => {
  process.exitCode = code;
});
