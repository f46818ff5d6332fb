// A CommandContext for driving shell command modules directly in tests: output captured
// (lines, JSON records, notes), an AbortController for Ctrl-C, and an agent session when
// the command needs one.
import type { AgentSession } from '../../src/channel/session.js';
import type { CommandContext, CommandOutput } from '../../src/commands/types.js';

export interface CapturedOutput extends CommandOutput {
  lines: string[];
  records: Array<Record<string, unknown>>;
  notes: string[];
  /** resolves when a record satisfying pred has been written (or already was) */
  waitForRecord(pred: (r: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export function captureOutput(): CapturedOutput {
  const waiters: Array<() => void> = [];
  const out: CapturedOutput = {
    json: false,
    color: false,
    lines: [],
    records: [],
    notes: [],
    line: (t) => void out.lines.push(t),
    record: (v) => {
      out.records.push(v as Record<string, unknown>);
      for (const w of waiters.splice(0)) w();
    },
    note: (t) => void out.notes.push(t),
    waitForRecord(pred, timeoutMs = 20000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching record within ${timeoutMs} ms; got ${JSON.stringify(out.records).slice(-800)}`)),
          timeoutMs,
        );
        const check = () => {
          const r = out.records.find(pred);
          if (r) {
            clearTimeout(timer);
            resolve(r);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
  return out;
}

const noAgent: AgentSession = {
  request() {
    throw new Error('this test gave the command no agent');
  },
  call() {
    throw new Error('this test gave the command no agent');
  },
};

export function commandContext(
  pid: number,
  opts: { agent?: AgentSession; cwd?: string } = {},
): { ctx: CommandContext; out: CapturedOutput; abort: AbortController } {
  const out = captureOutput();
  const abort = new AbortController();
  return { ctx: { pid, agent: opts.agent ?? noAgent, out, signal: abort.signal, cwd: opts.cwd ?? process.cwd() }, out, abort };
}
