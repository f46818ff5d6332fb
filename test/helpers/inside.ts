// For the tests of the in-process commands (tt, getglobal, vmtool, module, console): a
// target (test/targets/inside_app.py) attached for real with attach(pid), and a way to
// run one shell command module against it and get its captured output.
import { attach, type AttachedSession } from '../../src/attach/attach.js';
import { tokenize } from '../../src/commands/args.js';
import type { CommandContext, ShellCommand } from '../../src/commands/types.js';
import { commandContext, type CapturedOutput } from './command-context.js';
import type { Interpreter } from './pythons.js';
import { startTarget, type Target } from './targets.js';

export interface InsideTarget {
  target: Target;
  session: AttachedSession;
  /** runs `line` (the words after the command name) with the command module */
  run(cmd: ShellCommand, line: string, extra?: Partial<CommandContext>): Promise<CapturedOutput>;
  stop(): Promise<void>;
}

export async function startInside(py: Interpreter, args: string[] = []): Promise<InsideTarget> {
  const target = await startTarget(py, 'inside_app.py', args);
  let session: AttachedSession;
  try {
    session = await attach(target.pid, { timeoutMs: 15000 });
  } catch (e) {
    await target.stop();
    throw e;
  }
  return {
    target,
    session,
    async run(cmd, line, extra = {}) {
      const { ctx, out } = commandContext(target.pid, { agent: session.agent });
      await cmd.run({ ...ctx, ...extra }, tokenize(line));
      return out;
    },
    async stop() {
      try {
        await session.detach();
      } catch {
        /* the target may be gone already */
      }
      await target.stop();
    },
  };
}
