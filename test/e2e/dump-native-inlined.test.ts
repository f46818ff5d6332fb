// Inlined functions in `dump --native` and `record --native`, on every interpreter: a
// Python thread blocked in libc's pause() inside two functions inlined into an exported C
// function (test/fixtures/native/inlined.c, built with gcc -O2 -g; called through ctypes
// by test/targets/native_inlined.py) shows pause -> inner_wait [inlined] -> outer_wait
// [inlined] -> hold_inlined -> ctypes/libffi -> the Python caller, each C frame at the line
// of its marker comment, in --json and in text. A thread spinning there is recorded with
// the inlined functions as frames of their own in the collapsed stacks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';
import { hasGcc, sourceMarkerLine } from '../helpers/native-fixture.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';
import type { JsonFrame } from '../helpers/dump-json.js';

const SOURCE = join(PACKAGE_ROOT, 'test', 'fixtures', 'native', 'inlined.c');
const LIB = 'libinlined.so';
const dir = mkdtempSync(join(tmpdir(), 'spyglass-native-inlined-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const markerLine = (marker: string): number => sourceMarkerLine(SOURCE, marker);

describe('inlined functions in native stacks', { concurrency: 3, skip: !hasGcc() && 'gcc is not installed' }, () => {
  const lib = join(dir, LIB);
  before(() => execFileSync('gcc', ['-O2', '-g', '-shared', '-fPIC', '-o', lib, SOURCE]));

  for (const py of discoverPythons()) {
    test(`${py.label}: dump --native shows inner_wait and outer_wait inlined into hold_inlined`, async (t) => {
      const target = await startTarget(py, 'native_inlined.py', [lib, 'pause']);
      t.after(() => target.stop());
      await target.waitFor(/READY/);
      // READY comes just before the call: look again until the thread is inside it
      let frames: JsonFrame[] = [];
      for (let i = 0; i < 50 && !frames.some((f) => f.name === 'hold_inlined'); i++) {
        if (i) await new Promise((r) => setTimeout(r, 100));
        const r = await runCli(['dump', String(target.pid), '--native', '--json']);
        assert.equal(r.code, 0, r.stderr);
        const doc = JSON.parse(r.stdout) as { threads: Array<{ tid: number; merged: boolean; mergeError?: string; frames: JsonFrame[] }> };
        const main = doc.threads.find((x) => x.tid === target.pid)!;
        assert.equal(main.merged, true, main.mergeError);
        frames = main.frames;
      }
      const names = frames.map((f) => f.name);
      const inner = names.indexOf('inner_wait');
      assert.ok(inner > 0, names.join(' | '));
      assert.equal(frames[inner - 1].module, 'libc.so.6', names.join(' | '));
      assert.deepEqual(
        frames.slice(inner, inner + 3).map((f) => [f.name, f.module, f.inlined === true, f.filename, f.line]),
        [
          ['inner_wait', LIB, true, SOURCE, markerLine('inner-pause')],
          ['outer_wait', LIB, true, SOURCE, markerLine('outer')],
          ['hold_inlined', LIB, false, SOURCE, markerLine('exported')],
        ],
      );
      // then ctypes and libffi (and, on a stripped static interpreter, its unnamed static functions), then the Python caller
      const caller = names.indexOf('wait_in_inlined');
      assert.ok(caller > inner + 3, names.join(' | '));
      assert.equal(frames[caller].kind, 'python');
      const between = frames.slice(inner + 3, caller);
      assert.ok(
        between.every((f) => f.kind === 'native' && f.module !== LIB),
        names.join(' | '),
      );
      assert.ok(
        between.some((f) => /^(_ctypes|libffi)/.test(f.module!)),
        names.join(' | '),
      );

      // text: the inlined frames are marked
      const text = await runCli(['dump', String(target.pid), '--native']);
      assert.equal(text.code, 0, text.stderr);
      const lines = text.stdout.split('\n');
      const at = lines.indexOf(`    [native] inner_wait (${SOURCE}:${markerLine('inner-pause')}, ${LIB}) [inlined]`);
      assert.ok(at > 0, text.stdout);
      assert.deepEqual(lines.slice(at + 1, at + 3), [
        `    [native] outer_wait (${SOURCE}:${markerLine('outer')}, ${LIB}) [inlined]`,
        `    [native] hold_inlined (${SOURCE}:${markerLine('exported')}, ${LIB})`,
      ]);
    });

    test(`${py.label}: a warm native index gives the frames a cold one does, without the inlined functions read again`, async (t) => {
      const target = await startTarget(py, 'native_inlined.py', [lib, 'pause']);
      t.after(() => target.stop());
      await target.waitFor(/READY/);
      // the target's own cache home: the first dump builds every library's index, the second reads it
      const home = mkdtempSync(join(dir, 'home-'));
      const dump = async () => {
        const r = await runCli(['dump', String(target.pid), '--native', '--json'], { env: { XDG_CACHE_HOME: home } });
        assert.equal(r.code, 0, r.stderr);
        const doc = JSON.parse(r.stdout) as { threads: Array<{ tid: number; frames: JsonFrame[] }>; notes?: string[] };
        return { frames: doc.threads.find((x) => x.tid === target.pid)!.frames, notes: doc.notes };
      };
      // once the thread waits in pause() (READY comes just before the call), its stack stays as it is
      for (let i = 0; i < 50 && !(await dump()).frames.some((f) => f.name === 'hold_inlined'); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      rmSync(join(home, 'spyglass', 'native'), { recursive: true, force: true });
      const cold = await dump();
      const inodes = () =>
        readdirSync(join(home, 'spyglass', 'native')).map((f) => `${f} ${statSync(join(home, 'spyglass', 'native', f)).ino}`);
      const stored = inodes();
      assert.ok(stored.length > 0, 'the cold run stored its indexes');
      const warm = await dump();
      assert.ok(cold.frames.some((f) => f.name === 'inner_wait' && f.inlined));
      assert.deepEqual(warm, cold);
      // nothing new was learnt: no index was written again (a write renames a new file over it)
      assert.deepEqual(inodes(), stored);
    });

    test(`${py.label}: record --native keeps the inlined functions as frames of their own`, async (t) => {
      const target = await startTarget(py, 'native_inlined.py', [lib, 'spin']);
      t.after(() => target.stop());
      await target.waitFor(/READY/);
      const out = join(dir, `${py.label}.collapsed.txt`);
      const r = await runCli(['record', '-p', String(target.pid), '--native', '-d', '3', '-r', '50', '-f', 'collapsed', '-o', out], {
        timeoutMs: 60000,
      });
      assert.equal(r.code, 0, r.stderr);
      const stacks = readFileSync(out, 'utf8').trim().split('\n');
      // the spin loop is inside both inlined functions: every sample of it ends in the chain, under the Python caller
      // collapsed stacks carry each native frame's line: name (file name:line, module)
      const at = (name: string, marker: string) => `${name} (inlined.c:${markerLine(marker)}, ${LIB})`;
      const tail = `;${at('hold_inlined', 'exported')};${at('outer_wait', 'outer')};${at('inner_wait', 'inner-spin')} `;
      const chain = stacks.filter((l) => l.includes(tail));
      assert.ok(chain.length > 0, `${stacks.join('\n')}\n${r.stderr}`);
      for (const l of chain) assert.match(l, /wait_in_inlined \(.*native_inlined\.py:\d+\)/);
    });
  }
});
