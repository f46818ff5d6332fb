// `reset`: removes every hook this client installed (watch, trace, tt, monitor...), so the
// target's functions are exactly the originals again. Hooks of other clients stay.
import { parseArgs } from './args.js';
import type { ShellCommand } from './types.js';

export const resetCommand: ShellCommand = {
  name: 'reset',
  summary: 'Remove every hook this session installed; the target runs its original code again.',
  usage: 'reset',
  examples: [{ command: 'reset', comment: 'undo all watch/trace/tt/monitor hooks of this session' }],
  options: [],
  async run(ctx, words) {
    parseArgs('reset', words, []);
    const result = (await ctx.agent.call('reset', {})) as { removed?: number } | undefined;
    const removed = typeof result?.removed === 'number' ? result.removed : 0;
    ctx.out.record({ removed });
    ctx.out.line(`removed ${removed} hook${removed === 1 ? '' : 's'}`);
  },
};
