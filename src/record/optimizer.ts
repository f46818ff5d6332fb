// V8's optimizing compiler switched off and on for a recording at a low rate (record.ts):
// a module of its own so that node:v8 is loaded only then (scripts/bundle.mjs wraps a
// module loaded with import() to run on first use).
import { setFlagsFromString } from 'node:v8';

/** V8's default ceiling of optimization tiers (`node --v8-options`: any tier) */
const MAX_OPT_DEFAULT = 999;
/** Sparkplug's baseline code, the tier below the optimizing compilers */
const MAX_OPT_BASELINE = 1;

/**
 * Sets a V8 flag, first letting the bundled bin's launcher save its code cache: one made
 * after a flag change is refused by the next run (docs/bundle.md, "The code cache").
 */
function setFlag(flag: string): void {
  const beforeChange = (globalThis as Record<symbol, (() => void) | undefined>)[Symbol.for('spyglass.beforeV8FlagChange')];
  beforeChange?.();
  setFlagsFromString(flag);
}

/** Runs only baseline code from now on (code optimized already stays). */
export function baselineCodeOnly(): void {
  setFlag(`--max-opt=${MAX_OPT_BASELINE}`);
}

export function optimizeAgain(): void {
  setFlag(`--max-opt=${MAX_OPT_DEFAULT}`);
}
