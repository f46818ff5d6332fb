import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';
import { locatePython } from '../../src/reader/locate.js';
import { NotPythonError, ProcessGoneError } from '../../src/errors.js';
import { spawn } from 'node:child_process';

describe('locatePython finds the interpreter, its build and exact version', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    test(py.label, async (t) => {
      const target = await startTarget(py, 'locate_idle.py');
      t.after(() => target.stop());
      const found = locatePython(target.pid);
      try {
        assert.equal(found.version.text, py.version);
        assert.equal(found.build, py.build);
        assert.equal(found.libPath !== undefined, py.build === 'shared');
        for (const name of ['Py_AddPendingCall', 'PyRun_SimpleString', 'PyGILState_Ensure', 'PyGILState_Release']) {
          assert.ok(found.symbol(name), `${name} resolves`);
        }
        // the entry point lies in an executable mapping of the executable itself
        const exec = found.maps.find((m) => m.start <= found.entryAddr && found.entryAddr < m.end);
        assert.ok(exec?.perms.includes('x'), 'entry point is in executable code');
      } finally {
        found.close();
      }
    });
  }
});

test('a process that is not Python is refused with a one-line NotPythonError', async (t) => {
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.after(() => sleeper.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 100));
  assert.throws(
    () => locatePython(sleeper.pid!),
    (e: unknown) => e instanceof NotPythonError && /sleep 60/.test((e as Error).message) && !(e as Error).message.includes('\n'),
  );
});

test('a pid that does not exist is a ProcessGoneError', () => {
  assert.throws(() => locatePython(2 ** 22 + 12345), ProcessGoneError);
});
