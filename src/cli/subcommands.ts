// Every top-level subcommand registers itself here, in the order `--help` lists them.
import type { Command } from 'commander';
import { registerAttach } from './attach.js';
import { registerDemo } from './demo.js';
import { registerDump } from './dump.js';
import { registerPs } from './ps.js';
import { registerRecord } from './record.js';
import { registerTop } from './top.js';
import { registerWeb } from './web.js';

export type RegisterSubcommand = (program: Command) => void;

export const SUBCOMMANDS: RegisterSubcommand[] = [
  registerDemo,
  registerPs,
  registerDump,
  registerAttach,
  registerRecord,
  registerTop,
  registerWeb,
];
