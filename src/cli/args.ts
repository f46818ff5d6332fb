// Option and argument parsers shared by the top-level commands, in a module of their own
// so that a command does not load another's modules to parse a pid.
import { UsageError } from '../errors.js';

export function parsePid(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`not a process id: '${v}'`);
  return n;
}

export function parsePositive(what: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${what} must be a number above 0 (got '${v}')`);
    return n;
  };
}
