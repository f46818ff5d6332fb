import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoverPythons, SEARCHED_PLACES } from '../helpers/pythons.js';

// The e2e suite is only meaningful with a version matrix: refuse to pass without one.
test('at least two Python interpreters are available for the e2e matrix', () => {
  const found = discoverPythons();
  assert.ok(
    found.length >= 2,
    `found ${found.length} interpreter(s) (${found.map((p) => p.path).join(', ') || 'none'}); looked in: ${SEARCHED_PLACES.join('; ')}`,
  );
  for (const p of found) assert.match(p.version, /^3\.\d+\.\d+$/);
});
