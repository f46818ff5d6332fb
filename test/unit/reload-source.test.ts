// reload -v shortens a long new source as the reference does: over 20 lines, the first
// 10, a line saying how many were left out, and the last 10.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shortenSource } from '../../src/commands/reload.js';

test('reload -v: sources of up to 20 lines whole, longer ones cut in the middle', () => {
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `    line ${i + 1}`).join('\n') + '\n';
  assert.deepEqual(shortenSource(lines(20)), lines(20).trimEnd().split('\n'));
  const cut = shortenSource(lines(35));
  assert.equal(cut.length, 21);
  assert.deepEqual(cut.slice(0, 10), lines(10).trimEnd().split('\n'));
  assert.equal(cut[10], '# ... [15 lines omitted] ...');
  assert.deepEqual([cut[11], cut[20]], ['    line 26', '    line 35']);
});
