// Every shell command, in the order `help` lists them. A command module adds one import
// and one entry here; the shell, one-shot mode and completion all read this list.
// (help, quit/exit and detach belong to the shell itself: src/shell/dispatch.ts.)
import { resetCommand } from './reset.js';
import { watchCommand } from './watch.js';
import { traceCommand } from './trace.js';
import { monitorCommand } from './monitor.js';
import { stackCommand } from './stack.js';
import { gilstatCommand } from './gilstat.js';
import { ttCommand } from './tt.js';
import { getglobalCommand } from './getglobal.js';
import { vmtoolCommand } from './vmtool.js';
import { moduleCommand } from './module.js';
import { consoleCommand } from './console.js';
import { memCommand } from './mem.js';
import { torchCommand } from './torch.js';
import { perfCommand } from './perf.js';
import { reloadCommand } from './reload.js';
import type { ShellCommand } from './types.js';

export const COMMANDS: ShellCommand[] = [
  watchCommand,
  traceCommand,
  monitorCommand,
  stackCommand,
  resetCommand,
  gilstatCommand,
  ttCommand,
  getglobalCommand,
  vmtoolCommand,
  moduleCommand,
  consoleCommand,
  memCommand,
  torchCommand,
  perfCommand,
  reloadCommand,
];

export function findCommand(name: string): ShellCommand | undefined {
  return COMMANDS.find((c) => c.name === name);
}
