// For the tests of the in-process commands (tt, getglobal, vmtool, module, console): a
// target (test/targets/inside_app.py) with the agent loaded, and a way to run one shell
// command module against it and get its captured output. The agent is loaded by the
// target's own bootstrap runner (as startAgentTarget does for the agent tests), so these
// tests exercise the commands, not ptrace injection (attach has its own tests).
import type { AgentClient } from '../../src/channel/client.js';
import { tokenize } from '../../src/commands/args.js';
import type { CommandContext, ShellCommand } from '../../src/commands/types.js';
import { startAgentTarget, type AgentTarget } from './agent-target.js';
import { commandContext, type CapturedOutput } from './command-context.js';
import type { Interpreter } from './pythons.js';

export interface InsideTarget {
  target: AgentTarget;
  client: AgentClient;
  /**
   * runs `line` (the words after the command name) with the command module; `stopAfterMs`
   * aborts it then (Ctrl-C), `until` aborts it once a record satisfies it
   */
  run(
    cmd: ShellCommand,
    line: string,
    opts?: { extra?: Partial<CommandContext>; stopAfterMs?: number; until?: (r: Record<string, unknown>) => boolean; client?: AgentClient },
  ): Promise<CapturedOutput>;
  stop(): Promise<void>;
}

export async function startInside(py: Interpreter, args: string[] = []): Promise<InsideTarget> {
  const target = await startAgentTarget(py, { script: 'inside_app.py', args });
  let client: AgentClient;
  try {
    client = await target.attach();
  } catch (e) {
    await target.stop();
    throw e;
  }
  return {
    target,
    client,
    async run(cmd, line, opts = {}) {
      const { ctx, out, abort } = commandContext(target.pid, { agent: opts.client ?? client });
      const timer = opts.stopAfterMs !== undefined ? setTimeout(() => abort.abort(), opts.stopAfterMs) : undefined;
      if (opts.until)
        out.waitForRecord(opts.until).then(
          () => abort.abort(),
          () => undefined,
        );
      try {
        await cmd.run({ ...ctx, ...opts.extra }, tokenize(line));
      } finally {
        clearTimeout(timer);
      }
      return out;
    },
    async stop() {
      client.close();
      await target.stop();
    },
  };
}
