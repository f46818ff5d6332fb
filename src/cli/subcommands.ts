// Every top-level subcommand registers itself here, in the order `--help` lists them.
import type { Command } from 'commander';
import { registerAttach } from './attach.js';
import { registerRecord } from './record.js';
import { registerTop } from './top.js';

export type RegisterSubcommand = (program: Command) => void;

export const SUBCOMMANDS: RegisterSubcommand[] = [registerAttach, registerRecord, registerTop];
