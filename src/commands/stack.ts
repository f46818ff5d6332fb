// `stack [pid] [-f FILE] [--native]`: every thread's Python stack, exactly as `spyglass
// dump` prints it (same reader, same renderer). Read from outside through /proc/PID/mem,
// so it works even while the target's GIL is held by a stuck C call. `stack -a` asks the
// agent instead for every asyncio task (async-stack.ts).
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { readMixedStacks } from '../native/mixed-stacks.js';
import { NativeProcess } from '../native/native-process.js';
import { openReader } from '../reader/reader.js';
import type { StackDump } from '../reader/types.js';
import { saveFile, savedElsewhere } from '../save-file.js';
import { parseArgs, parsePid } from './args.js';
import { fetchAsyncTasks, renderAsyncTasks } from './async-stack.js';
import { renderStackText, stackDumpJson } from './render-stack.js';
import type { ShellCommand } from './types.js';

export const stackCommand: ShellCommand = {
  name: 'stack',
  summary: 'Print the Python stack of every thread (the same as `spyglass dump`).',
  usage: 'stack [pid] [-f <value>] [--native] [-a|--async]',
  examples: [
    { command: 'stack', comment: 'stacks of the attached process' },
    { command: 'stack -a', comment: 'every asyncio task of every event loop: state, await chain, who awaits whom' },
    { command: 'stack -f ./stack.log', comment: 'write them to a file' },
    { command: 'stack 3303', comment: 'stacks of another Python process' },
    { command: 'stack --native', comment: 'with C/C++ frames merged in' },
  ],
  options: [
    {
      names: ['-f', '--filepath'],
      key: 'file',
      kind: 'string',
      metavar: '<value>',
      description: 'write the stacks to this file instead of the screen',
    },
    {
      names: ['--native'],
      key: 'native',
      kind: 'flag',
      description: "merge native (C/C++) frames into each thread's stack (pauses the Python threads briefly; ptrace)",
    },
    {
      names: ['-a', '--async'],
      key: 'async',
      kind: 'flag',
      description: "asyncio tasks instead, asked from the agent (it reads asyncio's task registries on its own thread; nothing is changed)",
    },
  ],
  async run(ctx, words) {
    const { positionals, options } = parseArgs('stack', words, this.options);
    if (positionals.length > 1) throw new UsageError(`stack: expected at most one pid, got ${positionals.join(' ')}`);
    const pid = positionals.length ? parsePid(positionals[0], 'stack: ') : ctx.pid;
    let text: string;
    let json: unknown;
    if (options.async) {
      if (pid !== ctx.pid)
        throw new UsageError('stack -a reads the attached process only', `for another process: \`spyglass dump ${pid} --async\``);
      const answer = await fetchAsyncTasks(ctx.agent);
      text = renderAsyncTasks(pid, answer);
      json = { pid, ...answer };
    } else {
      const reader = await openReader(pid);
      let dump: StackDump;
      try {
        if (options.native) {
          const np = new NativeProcess(pid);
          try {
            dump = await readMixedStacks(reader, np);
          } finally {
            np.close();
          }
        } else dump = reader.sample({});
      } finally {
        reader.close();
      }
      text = renderStackText(dump);
      json = stackDumpJson(dump);
    }
    const file = options.file as string | undefined;
    if (file) {
      const saved = saveFile(resolve(ctx.cwd, file), ctx.out.json ? JSON.stringify(json) + '\n' : text);
      ctx.out.note(`wrote the ${options.async ? 'asyncio tasks' : 'stacks'} of process ${pid} to ${saved.path}`);
      ctx.out.record({ pid, file: saved.path, ...(saved.notWritten ? { not_written: saved.notWritten } : {}) });
      const elsewhere = savedElsewhere(saved, 'stack dump');
      if (elsewhere) throw elsewhere;
      return;
    }
    ctx.out.line(text.trimEnd());
    ctx.out.record(json);
  },
};
