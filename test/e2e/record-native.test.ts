// record --native on every interpreter: a target spending 3 ms in spin_three() for every
// 1 ms in spin_one() (two C functions called through ctypes) must show a 3:1 split
// within 5 points, with the C frames under the Python caller.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';
import { hasGcc } from '../helpers/native-fixture.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';

const dir = mkdtempSync(join(tmpdir(), 'spyglass-record-native-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// one interpreter at a time: the split needs a few hundred samples, which a loaded machine starves
describe('record --native', { concurrency: 1, skip: !hasGcc() && 'gcc is not installed' }, () => {
  const lib = join(dir, 'libspin.so');
  for (const py of discoverPythons()) {
    test(`${py.label}: a 3:1 split between two C functions`, async (t) => {
      execFileSync('gcc', ['-O2', '-shared', '-fPIC', '-o', lib, join(PACKAGE_ROOT, 'test', 'fixtures', 'native', 'spin.c')]);
      const target = await startTarget(py, 'native_split.py', [lib]);
      t.after(() => target.stop());
      const out = join(dir, `${py.label}.txt`);
      const r = await runCli(['record', '-p', String(target.pid), '--native', '-d', '10', '-r', '100', '-f', 'collapsed', '-o', out], {
        timeoutMs: 60000,
      });
      assert.equal(r.code, 0, r.stderr);
      let three = 0;
      let one = 0;
      for (const line of readFileSync(out, 'utf8').trim().split('\n')) {
        const count = Number(line.slice(line.lastIndexOf(' ') + 1));
        const frames = line.slice(0, line.lastIndexOf(' ')).split(';');
        const c = frames.indexOf('spin_three (libspin.so)');
        const o = frames.indexOf('spin_one (libspin.so)');
        // the C function sits under the Python loop that called it
        if (c >= 0 || o >= 0) assert.match(frames.slice(0, Math.max(c, o)).join(';'), /<module> \(.*native_split\.py:\d+\)/);
        if (c >= 0) three += count;
        if (o >= 0) one += count;
      }
      // fewer would make the ±5 points a matter of luck (a loaded machine gets fewer than asked for)
      assert.ok(three + one >= 100, `${three + one} samples in the two functions`);
      const share = (100 * three) / (three + one);
      assert.ok(Math.abs(share - 75) <= 5, `spin_three has ${share.toFixed(1)}% (${three} : ${one}), expected 75 ± 5`);
    });
  }
});
