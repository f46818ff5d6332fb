// `reset`: removes every hook this client installed (watch, trace, tt, monitor...), so the
// target's functions are exactly the originals again. Hooks of other clients stay.
import { parseArgs } from './args.js';
import { type CommandModel, shellCommand } from './model.js';

export const resetModel: CommandModel<Record<string, never>, { reset: { removed: number } }> = {
  name: 'reset',
  summary: 'Remove every hook this session installed; the target runs its original code again.',
  usage: 'reset',
  examples: [{ command: 'reset', comment: 'undo all watch/trace/tt/monitor hooks of this session' }],
  options: [],
  runsIn: 'agent',
  parse(words) {
    parseArgs('reset', words, []);
    return {};
  },
  async *execute(ctx) {
    const result = (await ctx.agent.call('reset', {})) as { removed?: number } | undefined;
    yield { kind: 'reset', data: { removed: typeof result?.removed === 'number' ? result.removed : 0 } };
  },
  textView(_req, out) {
    return ({ data: { removed } }) => out.line(`removed ${removed} hook${removed === 1 ? '' : 's'}`);
  },
};

export const resetCommand = shellCommand(resetModel);
