// dump --native on a thread inside numpy's matrix multiply: the BLAS kernel is the
// innermost frame, under numpy's C code, under the Python caller. Runs on every
// interpreter that has numpy installed; skipped, saying so, when none has.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { pythonsWith } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';

const withNumpy = pythonsWith('numpy');

describe('dump --native inside numpy', {
  concurrency: true,
  skip: withNumpy.length ? false : 'no interpreter found has numpy installed',
}, () => {
  for (const py of withNumpy) {
    test(`${py.label}: the BLAS kernel under numpy under multiply()`, async (t) => {
      const target = await startTarget(py, 'native_numpy.py');
      t.after(() => target.stop());
      let found: Array<{ kind: string; name: string; module?: string }> | undefined;
      // the loop also spends time outside BLAS (allocating the result): look a few times
      for (let i = 0; i < 20 && !found; i++) {
        const r = await runCli(['dump', String(target.pid), '--native', '--json']);
        assert.equal(r.code, 0, r.stderr);
        const main = (
          JSON.parse(r.stdout) as {
            threads: Array<{ tid: number; merged: boolean; frames: Array<{ kind: string; name: string; module?: string }> }>;
          }
        ).threads.find((x) => x.tid === target.pid)!;
        if (main.merged && /blas/i.test(main.frames[0].module ?? '')) found = main.frames;
      }
      assert.ok(found, 'no reading caught the thread inside BLAS');
      const multiarray = found.findIndex((f) => /^_multiarray_umath/.test(f.module ?? ''));
      const caller = found.findIndex((f) => f.kind === 'python' && f.name === 'multiply');
      assert.ok(multiarray > 0 && caller > multiarray, found.map((f) => `${f.name} (${f.module ?? 'py'})`).join(' | '));
    });
  }
});
