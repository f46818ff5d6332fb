// Every top-level subcommand, in the order `--help` lists them. Each one's module (its
// options, and what its action imports) loads only when that subcommand runs or the
// whole list is asked for (help, a misspelt name): `spyglass dump` never loads the web
// server, the shell or `top`'s terminal handling (BENCHMARKS.md#dump-start-up).
import type { Command } from 'commander';

export type RegisterSubcommand = (program: Command) => void;

export interface Subcommand {
  name: string;
  load: () => Promise<RegisterSubcommand>;
}

export const SUBCOMMANDS: Subcommand[] = [
  { name: 'demo', load: async () => (await import('./demo.js')).registerDemo },
  { name: 'ps', load: async () => (await import('./ps.js')).registerPs },
  { name: 'dump', load: async () => (await import('./dump.js')).registerDump },
  { name: 'attach', load: async () => (await import('./attach.js')).registerAttach },
  { name: 'record', load: async () => (await import('./record.js')).registerRecord },
  { name: 'top', load: async () => (await import('./top.js')).registerTop },
  { name: 'web', load: async () => (await import('./web.js')).registerWeb },
];

/**
 * The subcommands a command line needs registered: the one it names, else (no name,
 * `help`, a name that is none of them: commander then lists them or suggests one) all.
 */
export function subcommandsFor(argv: string[]): Subcommand[] {
  const word = argv.find((a, n) => n >= 2 && !a.startsWith('-'));
  const named = SUBCOMMANDS.filter((s) => s.name === word);
  return named.length ? named : SUBCOMMANDS;
}
