// docs/command-model.md lists every command of the registry, on the model or not, with
// where it runs: the table must stay true as commands are added or moved onto the model.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMMANDS, MODELS } from '../../src/commands/registry.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

const DOC = readFileSync(join(PACKAGE_ROOT, 'docs', 'command-model.md'), 'utf8');

/** `| name | runs | ...` rows of the doc's tables: name → the "runs" cell */
function rows(section: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length > 3 && /^[a-z]+$/.test(cells[1]) && cells[1] !== 'command') out.set(cells[1], cells[2]);
  }
  return out;
}

test('docs/command-model.md: every model with where it runs; every other command named as off the model', () => {
  const [onModel, offModel] = DOC.split('Not on the model');
  const documented = rows(onModel);
  assert.deepEqual([...documented.keys()].sort(), MODELS.map((m) => m.name).sort());
  for (const m of MODELS)
    assert.ok(documented.get(m.name)?.startsWith(m.runsIn), `${m.name} runs in ${m.runsIn}: ${documented.get(m.name)}`);
  const others = rows(offModel);
  for (const c of COMMANDS) if (!MODELS.some((m) => m.name === c.name)) assert.ok(others.has(c.name), `${c.name} is not in the doc`);
});
