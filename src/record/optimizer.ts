// V8's optimizing compiler switched off and on for a recording at a low rate (record.ts):
// a module of its own so that node:v8 is loaded only then (scripts/bundle.mjs wraps a
// module loaded with import() to run on first use).
import { setFlagsFromString } from 'node:v8';

/** V8's default ceiling of optimization tiers (`node --v8-options`: any tier) */
const MAX_OPT_DEFAULT = 999;
/** Sparkplug's baseline code, the tier below the optimizing compilers */
const MAX_OPT_BASELINE = 1;

/** Runs only baseline code from now on (code optimized already stays). */
export function baselineCodeOnly(): void {
  setFlagsFromString(`--max-opt=${MAX_OPT_BASELINE}`);
}

export function optimizeAgain(): void {
  setFlagsFromString(`--max-opt=${MAX_OPT_DEFAULT}`);
}
