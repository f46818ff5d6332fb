// `spyglass dump PID`: every thread of every interpreter of a running CPython, read from
// outside (nothing injected, the target keeps running), as text or one JSON document.
// `--async` is the exception: asyncio tasks live in Python objects only the agent can walk,
// so it attaches (as `spyglass PID` does) and asks it.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { NotPythonError, PermissionError, ProcessGoneError } from '../errors.js';
import { parsePid, pidFromArgOrOption } from '../commands/args.js';
import { renderStackText, stackDumpJson } from '../commands/render-stack.js';
import { processInfo } from '../proc/process.js';
import { openReader, type PythonReader } from '../reader/reader.js';
import type { StackDump } from '../reader/types.js';
import { descendants } from '../sampler/children.js';
import { readExact } from '../sampler/exact.js';
import { markInterrupted, wasInterrupted, writeStdout } from '../run-end.js';

export interface DumpOptions {
  locals?: boolean;
  json?: boolean;
  native?: boolean;
  nativeAll?: boolean;
  file?: string;
  outermostFirst?: boolean;
  async?: boolean;
  /** never pause a thread, even one whose stack could not be read consistently */
  nonblocking?: boolean;
  /** also every Python process below pid */
  subprocesses?: boolean;
  /** the missing ptrace permission has been told (once per command) */
  toldNoPermission?: boolean;
}

/** The asyncio tasks of pid, through the agent (attached for this, detached after; loaded
 * only then, so that dump itself starts without the attach modules). */
async function asyncText(pid: number, o: DumpOptions): Promise<string> {
  const [{ attach }, { fetchAsyncTasks, renderAsyncTasks }] = await Promise.all([
    import('../attach/attach.js'),
    import('../commands/async-stack.js'),
  ]);
  // Ctrl-C while the agent is being loaded must not kill spyglass with the target's thread
  // stopped mid-injection: attach ends first (it is bounded), then this run ends, 130
  const onSigint = () => markInterrupted();
  process.on('SIGINT', onSigint);
  let session: Awaited<ReturnType<typeof attach>>;
  try {
    session = await attach(pid);
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (wasInterrupted()) {
    await session.detach();
    return '';
  }
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
  if (o.subprocesses) return dumpTree(pid, o);
  const reader = await openReader(pid);
  try {
    return renderDump(await readOnce(reader, o), o);
  } finally {
    reader.close();
  }
}

async function readOnce(reader: PythonReader, o: DumpOptions): Promise<StackDump> {
  if (o.native || o.nativeAll) {
    // --native pauses every Python thread for its reading anyway: the stacks are exact.
    // Loaded only when asked, so a plain dump starts without the unwinder (BENCHMARKS.md).
    const [{ NativeProcess }, { readMixedStacks }] = await Promise.all([
      import('../native/native-process.js'),
      import('../native/mixed-stacks.js'),
    ]);
    const np = new NativeProcess(reader.pid);
    try {
      return await readMixedStacks(reader, np, { locals: o.locals, all: o.nativeAll });
    } finally {
      np.close();
    }
  }
  return readExact(reader, {
    locals: o.locals,
    nonblocking: o.nonblocking,
    onNoPermission: (e) => {
      // said once, however many processes are dumped
      if (o.toldNoPermission) return;
      o.toldNoPermission = true;
      process.stderr.write(
        `spyglass: ${e.message}: a thread whose stack kept changing is shown as torn (as with --nonblocking)\n  hint: ${e.hint}\n`,
      );
    },
  });
}

function renderDump(dump: StackDump, o: DumpOptions, cmdline?: string): string {
  const order = { outermostFirst: o.outermostFirst, cmdline };
  if (!o.json) return renderStackText(dump, order);
  // --subprocesses: one compact document per line, one line per process
  return cmdline !== undefined
    ? JSON.stringify(stackDumpJson(dump, order)) + '\n'
    : JSON.stringify(stackDumpJson(dump, order), null, 2) + '\n';
}

/**
 * --subprocesses: pid and every Python process below it, each once (the tree is walked by
 * parent pid, so a fork server's or a pool's children are met once), headed by its pid and
 * command line. A zombie, an exiting process, one that ends while read and one that is not
 * Python are passed over; the root may be a shell or a launcher. One below it that may not
 * be read (another user's, or one that made itself undumpable, as ssh-agent does) is left
 * out, said on stderr, rather than hiding the others.
 */
async function dumpTree(pid: number, o: DumpOptions): Promise<string> {
  const parts: string[] = [];
  const refused: { pid: number; cmdline: string; error: PermissionError }[] = [];
  for (const p of [pid, ...descendants(pid)]) {
    let cmdline: string;
    try {
      const info = processInfo(p);
      if (info.state === 'Z' || info.state === 'X') continue;
      cmdline = info.cmdline;
    } catch (e) {
      if (p === pid) throw e;
      continue; // gone meanwhile
    }
    let reader: PythonReader | undefined;
    try {
      reader = await openReader(p);
      parts.push(renderDump(await readOnce(reader, o), o, cmdline));
    } catch (e) {
      if (e instanceof NotPythonError || e instanceof ProcessGoneError) continue;
      if (p === pid || !(e instanceof PermissionError)) throw e;
      refused.push({ pid: p, cmdline, error: e });
    } finally {
      reader?.close();
    }
  }
  if (!parts.length) {
    if (refused.length) throw refused[0].error;
    throw new NotPythonError(`neither process ${pid} nor any process below it is a CPython process (yet)`);
  }
  for (const r of refused) process.stderr.write(`spyglass: left out process ${r.pid} (${r.cmdline}): ${r.error.message}\n`);
  if (refused.length) process.stderr.write(`  hint: ${refused[0].error.hint}\n`);
  return parts.join(o.json ? '' : '\n');
}

export function registerDump(program: Command): void {
  program
    .command('dump')
    .summary("print every thread's Python stack, read from outside the process")
    .description(
      'Print the Python stack of every thread of every interpreter of a running CPython (3.8-3.14), ' +
        'innermost frame first. Memory is read through /proc/PID/mem: nothing is injected and the ' +
        'process keeps running. Each thread shows its OS thread id, its threading name and whether it ' +
        'is idle, active, or holds the GIL. A thread whose stack keeps changing faster than it can be read ' +
        'is read once more while that thread alone is paused (microseconds); --nonblocking never pauses ' +
        'and marks such a thread as torn instead.',
    )
    .argument('[pid]', 'the Python process', (v: string) => parsePid(v))
    // py-spy's spelling, so `dump --pid PID` works as it does there
    .option('-p, --pid <pid>', 'the Python process (instead of the argument)', (v: string) => parsePid(v))
    .option('-l, --locals', "show each frame's arguments and local variables")
    .option('-j, --json', 'print one JSON document')
    .option('-f, --file <file>', 'write to this file instead of stdout')
    .option('--outermost-first', 'print the outermost frame first (like a Python traceback)')
    .option(
      '--async',
      'every asyncio task instead (state, await chain, which task awaits which). This one ATTACHES: it loads ' +
        "spyglass's agent into the process (as `spyglass PID` does), which reads asyncio's task registries on its own " +
        'thread; the agent stays loaded, idle',
    )
    .option('--nonblocking', 'never pause a thread: a stack that changed while read is marked torn')
    .option('--full-filenames', "whole paths (dump's default; accepted as py-spy spells it)")
    .option(
      '-n, --native',
      "merge each thread's native (C/C++) frames into its stack; pauses each Python thread while its registers and stack are read (ptrace)",
    )
    .option('--native-all', 'like --native, and keep the interpreter frames between Python calls (call helpers, vectorcall)')
    .option(
      '-s, --subprocesses',
      'also every Python process below it, each headed by its pid and command line (--json: one document per line and process)',
    )
    .addHelpText(
      'after',
      `
Examples:
  spyglass dump 4242                     # all threads, innermost frame first
  spyglass dump 4242 --locals            # with arguments and local variables
  spyglass dump 4242 --json -f dump.json # one JSON document, written to dump.json
  spyglass dump 4242 --subprocesses      # and every Python process below it (workers, children)
  spyglass dump 4242 --native            # with C/C++ frames ([native] name (module)) merged in
  spyglass dump 4242 --async             # asyncio tasks (attaches: the agent is loaded)`,
    )
    .action(async (arg: number | undefined, o: DumpOptions & { pid?: number }) => {
      const pid = pidFromArgOrOption('dump', arg, o.pid);
      const text = o.async ? await asyncText(pid, o) : await dumpText(pid, o);
      if (!o.file) {
        writeStdout(text);
        return;
      }
      // loaded only here: it brings node:os, which a dump to stdout does not need
      const { saveFile, savedElsewhere } = await import('../save-file.js');
      const saved = saveFile(resolve(o.file), text);
      process.stderr.write(`spyglass: wrote the stacks of process ${pid} to ${saved.path}\n`);
      const elsewhere = savedElsewhere(saved, 'dump');
      if (elsewhere) throw elsewhere;
    });
}
