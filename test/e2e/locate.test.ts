import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';
import { locatePython } from '../../src/reader/locate.js';
import { NotPythonError, ProcessGoneError } from '../../src/errors.js';
import { execFileSync, spawn } from 'node:child_process';

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

test('a libpython deleted since the process started (an upgrade): read through /proc/PID/map_files', async (t) => {
  const py = discoverPythons().find((p) => p.build === 'shared');
  if (!py || process.getuid?.() !== 0) {
    t.skip('needs root and a shared build');
    return;
  }
  // the interpreter runs a copy of its libpython, deleted once loaded
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-deleted-lib-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lib = execFileSync(py.path, ['-c', "print([l.split()[-1] for l in open('/proc/self/maps') if 'libpython' in l][0])"], {
    encoding: 'utf8',
  }).trim();
  copyFileSync(lib, join(dir, basename(lib)));
  const target = await startTarget(py, 'locate_idle.py', [], { env: { LD_LIBRARY_PATH: dir } });
  t.after(() => target.stop());
  const copy = join(dir, basename(lib));
  if (!readFileSync(`/proc/${target.pid}/maps`, 'utf8').includes(copy)) {
    t.skip(`${py.path} does not load libpython through LD_LIBRARY_PATH`);
    return;
  }
  rmSync(copy);
  assert.match(readFileSync(`/proc/${target.pid}/maps`, 'utf8'), / \(deleted\)$/m);

  // an internal error (ENOENT on the path that maps shows) before
  const dump = await runCli(['dump', String(target.pid)]);
  assert.equal(dump.code, 0, dump.stderr);
  assert.match(dump.stdout, new RegExp(`^Process ${target.pid}: Python ${py.version} \\(shared ${copy} \\(deleted\\)\\)`));
  assert.match(dump.stdout, /<module> \(.*locate_idle\.py:7\)/);
  // attaching reads the same file for the size of _PyRuntime
  const attach = await runCli([String(target.pid), '--cmd', 'getglobal __main__ __name__'], { timeoutMs: 60000 });
  assert.equal(attach.code, 0, attach.stderr);
  assert.match(attach.stdout, /'__main__'/);
});
