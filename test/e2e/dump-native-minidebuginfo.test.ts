// `dump --native` names the static functions of a stripped library from its MiniDebugInfo
// (.gnu_debugdata, an xz-compressed ELF holding their symbols; how Fedora and RHEL ship
// binaries): a library built from test/fixtures/native/static-fn.c, stripped, given the
// section the way Fedora's find-debuginfo does, and called through ctypes
// (test/targets/native_lines.py), on every interpreter. With the section corrupt, the
// static function shows as its address, a note says why once, and nothing else changes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';
import { addMiniDebugInfo, hasGcc } from '../helpers/native-fixture.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget, type Target } from '../helpers/targets.js';
import type { JsonFrame } from '../helpers/dump-json.js';

interface JsonDump {
  threads: Array<{ tid: number; merged: boolean; mergeError?: string; frames: JsonFrame[] }>;
  notes?: string[];
}

const SOURCE = join(PACKAGE_ROOT, 'test', 'fixtures', 'native', 'static-fn.c');
const dir = mkdtempSync(join(tmpdir(), 'spyglass-minidebuginfo-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** dump --native --json of the target, once its main thread is inside hold_outer (READY comes just before the call). */
async function dumpInside(target: Target): Promise<{ doc: JsonDump; frames: JsonFrame[] }> {
  for (let i = 0; ; i++) {
    const r = await runCli(['dump', String(target.pid), '--native', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as JsonDump;
    const main = doc.threads.find((x) => x.tid === target.pid)!;
    assert.equal(main.merged, true, main.mergeError);
    if (main.frames.some((f) => f.name === 'hold_outer') || i >= 50) return { doc, frames: main.frames };
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dump --native: static functions named from MiniDebugInfo', { concurrency: 3, skip: !hasGcc() && 'gcc is not installed' }, () => {
  const lib = join(dir, 'libstatic.so');
  const corrupt = join(dir, 'libcorrupt.so');
  before(() => {
    execFileSync('gcc', ['-g', '-O1', '-shared', '-fPIC', '-o', lib, SOURCE]);
    copyFileSync(lib, corrupt);
    addMiniDebugInfo(lib);
    addMiniDebugInfo(corrupt, { corrupt: true });
  });

  for (const py of discoverPythons()) {
    test(`${py.label}: hold_static, a static function of a stripped library, by name`, async (t) => {
      const target = await startTarget(py, 'native_lines.py', [lib]);
      t.after(() => target.stop());
      const { doc, frames } = await dumpInside(target);
      const names = frames.map((f) => f.name);
      const outer = names.indexOf('hold_outer');
      assert.ok(outer > 0, names.join(' | '));
      assert.deepEqual(
        frames.slice(outer - 1, outer + 1).map((f) => [f.name, f.module]),
        [
          ['hold_static', 'libstatic.so'],
          ['hold_outer', 'libstatic.so'],
        ],
      );
      assert.equal(frames[0].module, 'libc.so.6');
      assert.ok(names.indexOf('wait_in_c') > outer, names.join(' | '));
      assert.deepEqual(doc.notes ?? [], []);

      const text = await runCli(['dump', String(target.pid), '--native']);
      assert.equal(text.code, 0, text.stderr);
      assert.ok(text.stdout.includes('    [native] hold_static (libstatic.so)\n'), text.stdout);
    });

    test(`${py.label}: a corrupt .gnu_debugdata: the address, and one note`, async (t) => {
      const target = await startTarget(py, 'native_lines.py', [corrupt]);
      t.after(() => target.stop());
      const { doc, frames } = await dumpInside(target);
      const names = frames.map((f) => f.name);
      const outer = names.indexOf('hold_outer');
      assert.ok(outer > 0, names.join(' | '));
      assert.equal(frames[outer - 1].module, 'libcorrupt.so');
      assert.match(frames[outer - 1].name, /^0x[0-9a-f]+$/);
      const notes = (doc.notes ?? []).filter((n) => n.includes('.gnu_debugdata'));
      assert.equal(notes.length, 1, JSON.stringify(doc.notes));
      assert.match(notes[0], /^cannot read the \.gnu_debugdata \(MiniDebugInfo\) symbols of .*libcorrupt\.so: /);
    });
  }
});
