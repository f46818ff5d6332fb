// `spyglass PID` / `spyglass attach PID`: attach to a running Python process and open the
// shell, or with --cmd run one command and exit (0 on success, 1 on a failure the user can
// act on, 2 on bad usage). --json turns every command's output into JSON lines.
import type { Command } from 'commander';
import { UsageError, UserError } from '../errors.js';
import { parsePid } from '../commands/args.js';
import { markInterrupted, wasInterrupted } from '../run-end.js';

function parseSeconds(option: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${option} must be a number of seconds above 0 (got '${v}')`);
    return n;
  };
}

interface AttachCliOptions {
  cmd?: string;
  timeout?: number;
  json?: boolean;
  color: boolean;
  attachTimeout: number;
}

export function registerAttach(program: Command): void {
  program
    .command('attach')
    .summary('attach to a running Python process and open the spyglass shell (also: spyglass PID)')
    .description(
      'Attach to a running CPython 3.8-3.14 process without restarting it and open a shell whose ' +
        'commands (stack, watch, trace, tt, getglobal, vmtool, mem, console...) run inside it. ' +
        'With --cmd, run one command and exit. Detaching removes every hook this session installed.',
    )
    .argument('<pid>', 'the process to attach to', (v: string) => parsePid(v, '', 'find Python processes with `spyglass ps`'))
    .option('-c, --cmd <command>', 'run one shell command and exit (e.g. --cmd "stack")')
    .option('--timeout <seconds>', 'with --cmd: stop a streaming command after this many seconds', parseSeconds('--timeout'))
    .option('--json', 'print every result as JSON lines, for scripts')
    .option('--no-color', 'no colours (also when NO_COLOR is set or output is not a terminal)')
    .option('--attach-timeout <seconds>', 'give up attaching after this many seconds', parseSeconds('--attach-timeout'), 5)
    .action(async (pid: number, opts: AttachCliOptions, command: Command) => {
      const debug = Boolean(command.parent?.opts().debug);
      if (opts.timeout !== undefined && opts.cmd === undefined) throw new UserError('--timeout only applies with --cmd', undefined, 2);
      // checked before attaching: an empty command would attach, do nothing and succeed
      if (opts.cmd !== undefined && !opts.cmd.trim())
        throw new UserError('--cmd needs a command', 'e.g. --cmd "stack"; `help` lists the commands', 2);
      // the agent and the shell load when this command runs: every other command starts
      // without their modules (BENCHMARKS.md#dump-start-up)
      const [{ attach }, { AgentNotAnsweringError }, { createOutput, wantColor }, { runOneShot }, { runShell }] = await Promise.all([
        import('../attach/attach.js'),
        import('../channel/client.js'),
        import('../shell/output.js'),
        import('../shell/oneshot.js'),
        import('../shell/shell.js'),
      ]);
      const out = createOutput({ json: Boolean(opts.json), color: wantColor(process.stdout, !opts.color) });
      // Ctrl-C while the agent is being loaded must not kill spyglass with the target's
      // thread stopped mid-injection: attach ends first (it is bounded), then this run, 130
      const onSigint = () => markInterrupted();
      process.on('SIGINT', onSigint);
      let session: Awaited<ReturnType<typeof attach>>;
      try {
        session = await attach(pid, { timeoutMs: opts.attachTimeout * 1000 });
      } finally {
        process.off('SIGINT', onSigint);
      }
      let silent = false;
      try {
        if (wasInterrupted()) return;
        if (opts.cmd !== undefined) {
          await runOneShot({
            pid,
            agent: session.agent,
            out,
            line: opts.cmd,
            timeoutMs: opts.timeout && opts.timeout * 1000,
            lost: session.lost,
            unansweredMs: session.unansweredMs,
          });
        } else {
          if (!opts.json)
            out.note(
              `attached to process ${pid} (Python ${session.version}) in ${session.latencyMs} ms; \`help\` lists the commands, \`quit\` leaves`,
            );
          await runShell({ pid, agent: session.agent, out, debug, lost: session.lost, unansweredMs: session.unansweredMs });
        }
      } catch (e) {
        silent = e instanceof AgentNotAnsweringError;
        throw e;
      } finally {
        // a silent agent would not acknowledge the detach either: close at once (it
        // removes this client's hooks when it sees the connection closed)
        await session.detach(silent ? 0 : undefined);
      }
    });
}
