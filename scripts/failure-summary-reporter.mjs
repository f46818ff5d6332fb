// A node:test reporter that writes one short entry per distinct failure: which tests
// failed, in which file, and the first lines of why. run-tests.mjs prints these entries
// after the last phase, so the end of a long CI log (the part a reader is shown first)
// says why a test failed, not only that it did. A suite whose `before` hook failed fails
// its tests as cancelled: only the suite's entry is written. Tests failing with the same
// error are grouped under one entry.
import { relative } from 'node:path';

// enough for a failed setup's diagnostics (agent-target.ts whyNoAgent: a dump of every thread)
const MAX_LINES = 80;

function reason(error) {
  const inner = error?.cause ?? error;
  const kind = error?.failureType && error.failureType !== 'testCodeFailure' ? `[${error.failureType}] ` : '';
  const text = inner instanceof Error ? `${inner.name}: ${inner.message}` : String(inner);
  const lines = text.split('\n');
  const cut = lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), `... (${lines.length - MAX_LINES} more lines)`] : lines;
  return kind + cut.join('\n');
}

export default async function* failureSummary(source) {
  const byReason = new Map();
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { name, file, details } = event.data;
    // a suite fails because its tests did, and a test is cancelled because its suite
    // failed (a `before` hook): the other entry says why
    if (['subtestsFailed', 'cancelledByParent'].includes(details?.error?.failureType)) continue;
    const why = reason(details?.error);
    const where = file ? relative(process.cwd(), file) : '?';
    const key = `${where}\n${why}`;
    const entry = byReason.get(key) ?? { where, why, names: [] };
    entry.names.push(name);
    byReason.set(key, entry);
  }
  for (const { where, why, names } of byReason.values()) {
    const shown = names.length > 3 ? [...names.slice(0, 3), `and ${names.length - 3} more`] : names;
    yield `${where}: ${shown.join(' | ')}\n${why.replace(/^/gm, '    ')}\n\n`;
  }
}
