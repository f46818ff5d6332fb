// Every shell command, in the order `help` lists them. A command module adds one import
// and one entry here; the shell, one-shot mode and completion all read this list.
// (help, quit/exit and detach belong to the shell itself: src/shell/dispatch.ts.)
import { resetCommand, resetModel } from './reset.js';
import { watchCommand, watchModel } from './watch.js';
import { traceCommand, traceModel } from './trace.js';
import { monitorCommand, monitorModel } from './monitor.js';
import type { AnyCommandModel } from './model.js';
import { stackCommand, stackModel } from './stack.js';
import { gilstatCommand, gilstatModel } from './gilstat.js';
import { ttCommand, ttModel } from './tt.js';
import { getglobalCommand, getglobalModel } from './getglobal.js';
import { vmtoolCommand, vmtoolModel } from './vmtool.js';
import { moduleCommand, moduleModel } from './module.js';
import { consoleCommand } from './console.js';
import { memCommand, memModel } from './mem.js';
import { torchCommand, torchModel } from './torch.js';
import { perfCommand, perfModel } from './perf.js';
import { reloadCommand, reloadModel } from './reload.js';
import type { ShellCommand } from './types.js';

/**
 * The commands on the command model (docs/command-model.md): the web page runs these too.
 * Not on it: console (interactive: it asks the terminal for lines); the shell runs it directly.
 */
export const MODELS: AnyCommandModel[] = [
  watchModel,
  traceModel,
  monitorModel,
  resetModel,
  ttModel,
  getglobalModel,
  vmtoolModel,
  moduleModel,
  memModel,
  reloadModel,
  gilstatModel,
  torchModel,
  perfModel,
  stackModel,
];

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

export function findModel(name: string): AnyCommandModel | undefined {
  return MODELS.find((m) => m.name === name);
}
