// `spyglass dump PID`: every thread of every interpreter of a running CPython, read from
// outside (nothing injected, the target keeps running), as text or one JSON document.
// `--async` is the exception: asyncio tasks live in Python objects only the agent can walk,
// so it attaches (as `spyglass PID` does) and asks it.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { attach } from '../attach/attach.js';
import { fetchAsyncTasks, renderAsyncTasks } from '../commands/async-stack.js';
import { parsePid } from '../commands/args.js';
import { renderStackText, stackDumpJson } from '../commands/render-stack.js';
import { openReader } from '../reader/reader.js';
import { saveFile, savedElsewhere } from '../save-file.js';

export interface DumpOptions {
  locals?: boolean;
  json?: boolean;
  file?: string;
  outermostFirst?: boolean;
  async?: boolean;
}

/** The asyncio tasks of pid, through the agent (attached for this, detached after). */
async function asyncText(pid: number, o: DumpOptions): Promise<string> {
  const session = await attach(pid);
  process.stderr.write(
    `spyglass: ${session.how === 'reused' ? 'asked the agent already in' : 'attached to'} process ${pid} for its asyncio tasks; the agent stays loaded, idle\n`,
  );
  try {
    const answer = await fetchAsyncTasks(session.agent);
    return o.json ? JSON.stringify({ pid, ...answer }, null, 2) + '\n' : renderAsyncTasks(pid, answer);
  } finally {
    await session.detach();
  }
}

/** Reads the stacks of pid once and renders them as the options ask. */
export async function dumpText(pid: number, o: DumpOptions): Promise<string> {
  const reader = await openReader(pid);
  try {
    const dump = reader.sample({ locals: o.locals });
    const order = { outermostFirst: o.outermostFirst };
    return o.json ? JSON.stringify(stackDumpJson(dump, order), null, 2) + '\n' : renderStackText(dump, order);
  } finally {
    reader.close();
  }
}

export function registerDump(program: Command): void {
  program
    .command('dump')
    .summary("print every thread's Python stack, read from outside the process")
    .description(
      'Print the Python stack of every thread of every interpreter of a running CPython (3.8-3.14), ' +
        'innermost frame first. Memory is read through /proc/PID/mem: nothing is injected and the ' +
        'process is not stopped. Each thread shows its OS thread id, its threading name and whether it ' +
        'is idle, active, or holds the GIL.',
    )
    .argument('<pid>', 'the Python process', (v: string) => parsePid(v))
    .option('-l, --locals', "show each frame's arguments and local variables")
    .option('--json', 'print one JSON document')
    .option('-f, --file <file>', 'write to this file instead of stdout')
    .option('--outermost-first', 'print the outermost frame first (like a Python traceback)')
    .option(
      '--async',
      'every asyncio task instead (state, await chain, which task awaits which). This one ATTACHES: it loads ' +
        "spyglass's agent into the process (as `spyglass PID` does), which reads asyncio's task registries on its own " +
        'thread; the agent stays loaded, idle',
    )
    .addHelpText(
      'after',
      `
Examples:
  spyglass dump 4242                     # all threads, innermost frame first
  spyglass dump 4242 --locals            # with arguments and local variables
  spyglass dump 4242 --json -f dump.json # one JSON document, written to dump.json
  spyglass dump 4242 --async             # asyncio tasks (attaches: the agent is loaded)`,
    )
    .action(async (pid: number, o: DumpOptions) => {
      const text = o.async ? await asyncText(pid, o) : await dumpText(pid, o);
      if (!o.file) {
        process.stdout.write(text);
        return;
      }
      const saved = saveFile(resolve(o.file), text);
      process.stderr.write(`spyglass: wrote the stacks of process ${pid} to ${saved.path}\n`);
      const elsewhere = savedElsewhere(saved, 'dump');
      if (elsewhere) throw elsewhere;
    });
}
