// Every top-level subcommand registers itself here, in the order `--help` lists them.
import type { Command } from 'commander';

export type RegisterSubcommand = (program: Command) => void;

export const SUBCOMMANDS: RegisterSubcommand[] = [];
