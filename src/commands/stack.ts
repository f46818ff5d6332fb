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
import { type AsyncTasksAnswer, fetchAsyncTasks, renderAsyncTasks } from './async-stack.js';
import { type CommandModel, shellCommand } from './model.js';
import { type StackDumpJson, renderStackText, stackDumpFromJson, stackDumpJson } from './render-stack.js';

export interface StackRequest {
  pid: number;
  /** asyncio tasks from the agent instead */
  async: boolean;
  native: boolean;
  /** the file to write instead of the screen (absolute) */
  file?: string;
}

/** What stack yields, as --json prints it. */
export interface StackResults {
  /** every thread's stack, read from outside: the document `dump --json` prints */
  stacks: StackDumpJson;
  /** -a: the asyncio tasks, asked from the agent */
  tasks: { pid: number } & AsyncTasksAnswer;
  /** -f: where they were written */
  file: { pid: number; file: string; not_written?: unknown };
}

function asyncText(t: StackResults['tasks']): string {
  const { pid, ...answer } = t;
  return renderAsyncTasks(pid, answer);
}

export const stackModel: CommandModel<StackRequest, StackResults> = {
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
  runsIn: 'outside',
  parse(words, at) {
    const { positionals, options } = parseArgs('stack', words, this.options);
    if (positionals.length > 1) throw new UsageError(`stack: expected at most one pid, got ${positionals.join(' ')}`);
    const pid = positionals.length ? parsePid(positionals[0], 'stack: ') : at.pid;
    if (options.async && pid !== at.pid)
      throw new UsageError('stack -a reads the attached process only', `for another process: \`spyglass dump ${pid} --async\``);
    return {
      pid,
      async: Boolean(options.async),
      native: Boolean(options.native),
      file: options.file === undefined ? undefined : resolve(at.cwd, options.file as string),
    };
  },
  async *execute(ctx, req) {
    let result: StackResults['stacks'] | StackResults['tasks'];
    if (req.async) result = { pid: req.pid, ...(await fetchAsyncTasks(ctx.agent)) };
    else {
      const reader = await openReader(req.pid);
      let dump: StackDump;
      try {
        if (req.native) {
          const np = new NativeProcess(req.pid);
          try {
            dump = await readMixedStacks(reader, np);
          } finally {
            np.close();
          }
        } else dump = reader.sample({});
      } finally {
        reader.close();
      }
      result = stackDumpJson(dump);
    }
    if (!req.file) {
      if (req.async) yield { kind: 'tasks', data: result as StackResults['tasks'] };
      else yield { kind: 'stacks', data: result as StackResults['stacks'] };
      return;
    }
    // the file holds what the view shows: text for people, the JSON document with --json
    const text = req.async
      ? asyncText(result as StackResults['tasks'])
      : renderStackText(stackDumpFromJson(result as StackDumpJson), { traceback: true });
    const saved = saveFile(req.file, ctx.terminal ? text : JSON.stringify(result) + '\n');
    yield { kind: 'file', data: { pid: req.pid, file: saved.path, ...(saved.notWritten ? { not_written: saved.notWritten } : {}) } };
    const elsewhere = savedElsewhere(saved, 'stack dump');
    if (elsewhere) throw elsewhere;
  },
  textView(req, out) {
    return (step) => {
      if (step.kind === 'stacks') out.line(renderStackText(stackDumpFromJson(step.data), { traceback: true }).trimEnd());
      else if (step.kind === 'tasks') out.line(asyncText(step.data).trimEnd());
      // the reference tool's words, which scripts look for
      else if (step.kind === 'file') out.line(`Write ${req.async ? 'coroutine stacks' : 'stack'} to ${step.data.file} successfully!`);
    };
  },
};

export const stackCommand = shellCommand(stackModel);
