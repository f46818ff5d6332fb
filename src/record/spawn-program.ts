// Launch mode's program, started with its stdio inherited. Its own module so that
// node:child_process (with net and the stream machinery) is loaded by launch mode alone:
// record imports this with import() (a dynamic import of node:child_process itself would
// not do: the bundle runs as a vm.Script, which has no dynamic-import callback).
import { spawn, type ChildProcess } from 'node:child_process';

export function spawnProgram(command: string[], cwd?: string): ChildProcess {
  return spawn(command[0], command.slice(1), { stdio: 'inherit', cwd });
}
