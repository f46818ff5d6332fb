// The agent's Python unit tests (test/agent_py: hook engine, renderer, scopes) under every
// interpreter, through node's runner so `npm test` covers them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { discoverPythons } from '../helpers/pythons.js';

const dir = join(PACKAGE_ROOT, 'test', 'agent_py');

for (const py of discoverPythons()) {
  test(`agent unit tests on ${py.label}`, () => {
    const r = spawnSync(py.path, ['-B', '-m', 'unittest', 'discover', '-s', dir, '-p', 'test_*.py'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60000,
    });
    const ran = /Ran (\d+) tests?/.exec(r.stderr);
    assert.ok(ran && Number(ran[1]) >= 20, `expected the agent's unit tests to run:\n${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /\nOK( \(skipped=\d+\))?\n?$/); // a test of a newer version (TaskGroup: 3.11+) is skipped on older ones
  });
}
