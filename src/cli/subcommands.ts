// Every top-level subcommand, in the order `--help` lists them. Each one's module (its
// options, and what its action imports) loads only when that subcommand runs or the
// whole list is asked for (help, a misspelt name): `spyglass dump` never loads the web
// server, the shell or `top`'s terminal handling (BENCHMARKS.md#dump-start-up).
import type { Command } from 'commander';

export type RegisterSubcommand = (program: Command) => void;

export interface Subcommand {
  name: string;
  load: () => Promise<RegisterSubcommand>;
  /** false: it needs every other subcommand (completions lists them), so it runs from the whole bundle only */
  ownBundle?: false;
}

// A subcommand's own bundle (scripts/bundle.mjs, docs/bundle.md) holds that subcommand
// alone: esbuild replaces process.env.SPYGLASS_BUNDLE_COMMAND with its name, folds each
// other entry to `false`, and so leaves out the modules only they import. Elsewhere (the
// whole bundle, tsc's output) it is undefined and every entry stays. Each test is written
// out in full: esbuild folds literals, not calls.
const entries: Array<Subcommand | false> = [
  (process.env.SPYGLASS_BUNDLE_COMMAND ?? 'demo') === 'demo' && {
    name: 'demo',
    load: async () => (await import('./demo.js')).registerDemo,
  },
  (process.env.SPYGLASS_BUNDLE_COMMAND ?? 'ps') === 'ps' && { name: 'ps', load: async () => (await import('./ps.js')).registerPs },
  (process.env.SPYGLASS_BUNDLE_COMMAND ?? 'dump') === 'dump' && {
    name: 'dump',
    load: async () => (await import('./dump.js')).registerDump,
  },
  (process.env.SPYGLASS_BUNDLE_COMMAND ?? 'attach') === 'attach' && {
    name: 'attach',
    load: async () => (await import('./attach.js')).registerAttach,
  },
  (process.env.SPYGLASS_BUNDLE_COMMAND ?? 'record') === 'record' && {
    name: 'record',
    load: async () => (await import('./record.js')).registerRecord,
  },
  (process.env.SPYGLASS_BUNDLE_COMMAND ?? 'top') === 'top' && { name: 'top', load: async () => (await import('./top.js')).registerTop },
  (process.env.SPYGLASS_BUNDLE_COMMAND ?? 'web') === 'web' && { name: 'web', load: async () => (await import('./web.js')).registerWeb },
  process.env.SPYGLASS_BUNDLE_COMMAND === undefined && {
    name: 'completions',
    load: async () => (await import('./completions.js')).registerCompletions,
    ownBundle: false,
  },
];

export const SUBCOMMANDS: Subcommand[] = entries.filter((e): e is Subcommand => e !== false);

/**
 * The subcommands a command line needs registered: the one it names, else (no name,
 * `help`, a name that is none of them: commander then lists them or suggests one) all.
 */
export function subcommandsFor(argv: string[]): Subcommand[] {
  const word = argv.find((a, n) => n >= 2 && !a.startsWith('-'));
  const named = SUBCOMMANDS.filter((s) => s.name === word);
  return named.length ? named : SUBCOMMANDS;
}
