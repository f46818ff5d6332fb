// dump --locals on numpy scalars: their values, as str() prints them (np.float32(0.3)
// is 0.3, not the double it widens to), rather than `<numpy.int8 at 0x...>`; a type
// whose value is not decoded (float16) keeps that form. Runs on every interpreter that
// has numpy installed; skipped, saying so, when none has.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import type { JsonFrame } from '../helpers/dump-json.js';
import { pythonsWith } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';

const withNumpy = pythonsWith('numpy');

describe('dump --locals on numpy scalars', {
  concurrency: true,
  skip: withNumpy.length ? false : 'no interpreter found has numpy installed',
}, () => {
  for (const py of withNumpy) {
    test(`${py.label}: each scalar's value`, async (t) => {
      const target = await startTarget(py, 'numpy_locals.py');
      t.after(() => target.stop());
      const r = await runCli(['dump', String(target.pid), '--locals', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { threads: Array<{ tid: number; frames: JsonFrame[] }> };
      const frame = doc.threads.find((x) => x.tid === target.pid)!.frames.find((f) => f.name === 'numpy_scalars')!;
      const values = Object.fromEntries(frame.locals!.map((l) => [l.name, l.value]));
      assert.deepEqual(
        { ...values, a_half: values.a_half?.replace(/0x[0-9a-f]+/, 'ADDR') },
        {
          a_bool: 'True',
          an_int8: '-3',
          an_int16: '-300',
          an_int32: '-70000',
          an_int64: String(-(2 ** 40)),
          a_uint8: '250',
          a_uint16: '65000',
          a_uint32: '4000000000',
          a_uint64: String(2n ** 63n + 5n),
          a_float32: '0.3',
          a_float64: '0.7',
          a_half: '<numpy.float16 at ADDR>',
        },
      );
    });
  }
});
