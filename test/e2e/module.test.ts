// module FILEPATH on every interpreter: an imported file and the main script by absolute
// path, by paths relative to the client's directory, through a symlink, as a .pyc, a
// package by its directory; a file that is not
// loaded (existing, missing, or with the name of a loaded one).
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { moduleCommand as module } from '../../src/commands/module.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { startInside } from '../helpers/inside.js';
import { discoverPythons } from '../helpers/pythons.js';
import { TARGETS_DIR } from '../helpers/targets.js';

type Rec = Record<string, any>;

const helper = join(TARGETS_DIR, 'inside_helper.py');
const dir = mkdtempSync(join(tmpdir(), 'spyglass-module-test-'));
const link = join(dir, 'linked.py');
symlinkSync(helper, link);
const copy = join(dir, 'inside_helper.py');
copyFileSync(helper, copy);

describe('module', { concurrency: true }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (const py of discoverPythons()) {
    test(py.label, async () => {
      const t = await startInside(py);
      try {
        const names = async (path: string, cwd?: string) => {
          const out = await t.run(module, path, { extra: cwd ? { cwd } : {} });
          return { rec: out.records[0] as Rec, out };
        };
        // absolute paths: an imported module and the script run as __main__
        let { rec, out } = await names(helper);
        assert.deepEqual(
          rec.modules.map((m: Rec) => m.module),
          ['inside_helper'],
        );
        assert.equal(rec.loaded, true);
        assert.equal(out.lines[0], `inside_helper  (${helper})`);
        assert.ok(out.notes.some((n) => n.includes('watch inside_helper <function>')));
        ({ rec } = await names(join(TARGETS_DIR, 'inside_app.py')));
        assert.deepEqual(
          rec.modules.map((m: Rec) => m.module),
          ['__main__'],
        );
        // relative to the client's directory, with and without ./ and ..
        ({ rec } = await names('inside_helper.py', TARGETS_DIR));
        assert.deepEqual(
          rec.modules.map((m: Rec) => m.module),
          ['inside_helper'],
        );
        ({ rec } = await names('test/targets/inside_helper.py', PACKAGE_ROOT));
        assert.deepEqual(
          rec.modules.map((m: Rec) => m.module),
          ['inside_helper'],
        );
        ({ rec } = await names('../targets/./inside_helper.py', join(PACKAGE_ROOT, 'test', 'e2e')));
        assert.deepEqual(
          rec.modules.map((m: Rec) => m.module),
          ['inside_helper'],
        );
        // a symlink to the file: resolved
        ({ rec } = await names(link));
        assert.deepEqual(
          rec.modules.map((m: Rec) => m.module),
          ['inside_helper'],
        );
        // a compiled file stands for its source, a package directory for its __init__.py
        const tag = `cpython-${py.minor.replace('.', '')}`;
        ({ rec } = await names(join(TARGETS_DIR, '__pycache__', `inside_helper.${tag}.pyc`)));
        assert.deepEqual(
          rec.modules.map((m: Rec) => m.module),
          ['inside_helper'],
        );
        // (a repr of a plain path: the path in quotes)
        const asyncioDir = ((await t.client.call('eval', { expr: "__import__('asyncio').__path__[0]" })) as { repr: string }).repr.slice(
          1,
          -1,
        );
        ({ rec } = await names(asyncioDir));
        assert.deepEqual(
          rec.modules.map((m: Rec) => m.module),
          ['asyncio'],
        );
        // not loaded: a file the target never imported, a missing one, a copy with a loaded one's name
        ({ rec, out } = await names(join(TARGETS_DIR, 'exit_soon.py')));
        assert.deepEqual([rec.loaded, rec.exists, rec.modules], [false, true, []]);
        assert.equal(out.lines[0], `${join(TARGETS_DIR, 'exit_soon.py')}: not loaded in process ${t.target.pid}`);
        ({ rec, out } = await names(join(dir, 'nope.py')));
        assert.deepEqual([rec.loaded, rec.exists], [false, false]);
        assert.match(out.lines[0], /not loaded in process \d+ \(no such file in the target's view\)$/);
        ({ rec, out } = await names(copy));
        assert.equal(rec.loaded, false);
        assert.match(out.lines.join('\n'), new RegExp(`a file with the same name is loaded as inside_helper  \\(${helper}\\)`));
        await assert.rejects(t.run(module, ''), /expected one file path, got 0/);
      } finally {
        await t.stop();
      }
    });
  }
});
