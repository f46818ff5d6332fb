// `spyglass 1234 ...` is short for `spyglass attach 1234 ...`.
import { PID_PATTERN } from '../commands/args.js';

/** Inserts the subcommand name `attach` before a bare pid. */
export function routeBarePid(argv: string[]): string[] {
  const i = argv.findIndex((a, n) => n >= 2 && !a.startsWith('-'));
  if (i < 0 || !PID_PATTERN.test(argv[i])) return argv;
  return [...argv.slice(0, i), 'attach', ...argv.slice(i)];
}
