// `spyglass dump PID`: every thread of every interpreter of a running CPython, read from
// outside (nothing injected, the target keeps running), as text or one JSON document.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { parsePid } from '../commands/args.js';
import { renderStackText, stackDumpJson } from '../commands/render-stack.js';
import { openReader } from '../reader/reader.js';
import { readExact } from '../sampler/exact.js';

export interface DumpOptions {
  locals?: boolean;
  json?: boolean;
  file?: string;
  outermostFirst?: boolean;
  /** never pause a thread, even one whose stack could not be read consistently */
  nonblocking?: boolean;
}

/** Reads the stacks of pid once and renders them as the options ask. */
export async function dumpText(pid: number, o: DumpOptions): Promise<string> {
  const reader = await openReader(pid);
  try {
    const dump = await readExact(reader, {
      locals: o.locals,
      nonblocking: o.nonblocking,
      onNoPermission: (e) =>
        process.stderr.write(
          `spyglass: ${e.message}: a thread whose stack kept changing is shown as torn (as with --nonblocking)\n  hint: ${e.hint}\n`,
        ),
    });
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
      'Print the Python stack of every thread of every interpreter of a running CPython (3.8-3.14),\n' +
        'innermost frame first. Memory is read through /proc/PID/mem: nothing is injected and the\n' +
        'process keeps running. Each thread shows its OS thread id, its threading name and whether it\n' +
        'is idle, active, or holds the GIL. A thread whose stack keeps changing faster than it can be read\n' +
        'is read once more while that thread alone is paused (microseconds); --nonblocking never pauses\n' +
        'and marks such a thread as torn instead.',
    )
    .argument('<pid>', 'the Python process', (v: string) => parsePid(v))
    .option('-l, --locals', "show each frame's arguments and local variables")
    .option('--json', 'print one JSON document')
    .option('-f, --file <file>', 'write to this file instead of stdout')
    .option('--outermost-first', 'print the outermost frame first (like a Python traceback)')
    .option('--nonblocking', 'never pause a thread: a stack that changed while read is marked torn')
    .addHelpText(
      'after',
      `
Examples:
  spyglass dump 4242                     # all threads, innermost frame first
  spyglass dump 4242 --locals            # with arguments and local variables
  spyglass dump 4242 --json -f dump.json # one JSON document, written to dump.json`,
    )
    .action(async (pid: number, o: DumpOptions) => {
      const text = await dumpText(pid, o);
      if (!o.file) {
        process.stdout.write(text);
        return;
      }
      try {
        writeFileSync(o.file, text);
      } catch (e) {
        throw new UserError(`cannot write ${o.file}: ${(e as Error).message}`);
      }
      process.stderr.write(`spyglass: wrote the stacks of process ${pid} to ${o.file}\n`);
    });
}
