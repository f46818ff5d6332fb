// Every CPython layout fact lives in the reader (src/reader/): a new CPython version is
// added there, in one place. This fails when a module elsewhere in src/ holds a CPython
// struct offset: a numeric constant named after a field the layouts know (LAST_HOLDER =
// 8, TSTATE_CURRENT_OFFSET = 576), or a struct drawn with offsets in a comment
// ("int locked;  @16"). The field names come from the layouts themselves: the generated
// tables' keys and _Py_DebugOffsets' field lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { debugOffsetFieldNames } from '../../src/reader/layouts/debug-offsets.js';
import { tableLayout, TABLE_MINORS } from '../../src/reader/layouts/tables.js';

const SRC = join(PACKAGE_ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** lower_snake field names of every struct the layouts describe, e.g. last_holder, tstate_current */
function fieldNames(): Set<string> {
  const names = new Set<string>();
  const add = (key: string) => {
    const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
    // one-word names (size, next, id, type) say nothing on their own
    if (snake.includes('_')) names.add(snake);
  };
  const walk = (o: unknown) => {
    if (!o || typeof o !== 'object') return;
    for (const [k, v] of Object.entries(o)) {
      add(k);
      walk(v);
    }
  };
  for (const minor of TABLE_MINORS) walk(tableLayout(minor));
  for (const name of debugOffsetFieldNames()) add(name.split('.')[1]);
  return names;
}

test('no CPython struct offset outside src/reader/', () => {
  const fields = fieldNames();
  assert.ok(fields.has('last_holder') && fields.has('tstate_current') && fields.has('threads_head'), [...fields].join(' '));
  const problems: string[] = [];
  for (const file of files(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith('reader/')) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const where = `src/${rel}:${i + 1}`;
        const m = /\bconst\s+([A-Za-z_]\w*)\s*=\s*(?:BigInt\()?(0x[0-9a-fA-F]+|\d+)n?\)?\s*;/.exec(line);
        if (m) {
          const name = m[1].replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
          const hit = [...fields].find((f) => name.includes(f));
          if (hit) problems.push(`${where}: ${m[1]} = ${m[2]} looks like the offset of ${hit}`);
        }
        if (/^\s*(\/\/|\*).*;\s*@\s*\d+/.test(line)) problems.push(`${where}: a struct drawn with offsets: ${line.trim()}`);
      });
  }
  assert.deepEqual(problems, [], 'CPython layout facts belong in src/reader/layouts (or a reader API)');
});
