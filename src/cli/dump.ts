// `spyglass dump PID`: every thread of every interpreter of a running CPython, read from
// outside (nothing injected, the target keeps running), as text or one JSON document.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parsePid } from '../commands/args.js';
import { renderStackText, stackDumpJson } from '../commands/render-stack.js';
import { readMixedStacks } from '../native/mixed-stacks.js';
import { NativeProcess } from '../native/native-process.js';
import { openReader, type PythonReader } from '../reader/reader.js';
import { saveFile, savedElsewhere } from '../save-file.js';

export interface DumpOptions {
  locals?: boolean;
  json?: boolean;
  file?: string;
  outermostFirst?: boolean;
  native?: boolean;
  nativeAll?: boolean;
}

/** Reads the stacks of pid once and renders them as the options ask. */
export async function dumpText(pid: number, o: DumpOptions): Promise<string> {
  const reader = await openReader(pid);
  try {
    const dump = o.native || o.nativeAll ? await readNative(reader, o) : reader.sample({ locals: o.locals });
    const order = { outermostFirst: o.outermostFirst };
    return o.json ? JSON.stringify(stackDumpJson(dump, order), null, 2) + '\n' : renderStackText(dump, order);
  } finally {
    reader.close();
  }
}

async function readNative(reader: PythonReader, o: DumpOptions) {
  const np = new NativeProcess(reader.pid);
  try {
    return await readMixedStacks(reader, np, { locals: o.locals, all: o.nativeAll });
  } finally {
    np.close();
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
        'is idle, active, or holds the GIL. With --native, the Python threads (never the others) are ' +
        'paused with ptrace for as long as their registers and stacks take to read (see BENCHMARKS.md), ' +
        'and each evaluation-loop frame is replaced by the Python frames it ran. Needs ptrace permission.',
    )
    .argument('<pid>', 'the Python process', (v: string) => parsePid(v))
    .option('-l, --locals', "show each frame's arguments and local variables")
    .option('--json', 'print one JSON document')
    .option('-f, --file <file>', 'write to this file instead of stdout')
    .option('--outermost-first', 'print the outermost frame first (like a Python traceback)')
    .option('--native', "merge each thread's native (C/C++) frames into its stack; pauses each Python thread while its registers and stack are read (ptrace)")
    .option('--native-all', 'like --native, and keep the interpreter frames between Python calls (call helpers, vectorcall)')
    .addHelpText(
      'after',
      `
Examples:
  spyglass dump 4242                     # all threads, innermost frame first
  spyglass dump 4242 --locals            # with arguments and local variables
  spyglass dump 4242 --json -f dump.json # one JSON document, written to dump.json
  spyglass dump 4242 --native            # with C/C++ frames ([native] name (module)) merged in`,
    )
    .action(async (pid: number, o: DumpOptions) => {
      const text = await dumpText(pid, o);
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
