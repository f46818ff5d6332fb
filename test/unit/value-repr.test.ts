// The reprs `dump --locals` prints for floats: Python's repr() of a float, and numpy's
// str() of a float32 (its own shortest digits and exponent thresholds). Expected values
// are what CPython 3.11 and numpy 2.4 print.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { float32Repr, pyFloatRepr } from '../../src/reader/objects.js';

describe('float reprs', () => {
  test("Python's repr() of a float", () => {
    const cases: Array<[number, string]> = [
      [0.1, '0.1'],
      [100, '100.0'],
      [1 / 3, '0.3333333333333333'],
      [1e16, '1e+16'],
      [1234567890123456.0, '1234567890123456.0'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [-2.5e-7, '-2.5e-07'],
      [-0, '-0.0'],
      [Number.POSITIVE_INFINITY, 'inf'],
      [Number.NaN, 'nan'],
    ];
    for (const [x, want] of cases) assert.equal(pyFloatRepr(x), want, String(x));
  });

  test("numpy's str() of a float32", () => {
    const cases: Array<[number, string]> = [
      [0.3, '0.3'],
      [1 / 3, '0.33333334'],
      [0.1, '0.1'],
      [100, '100.0'],
      [123456.7, '123456.7'],
      [1e6, '1e+06'],
      [9999999, '9.999999e+06'],
      [16777217, '1.6777216e+07'],
      [0.0001, '1e-04'],
      [0.00011, '0.00011'],
      [1e-8, '1e-08'],
      [3.4e38, '3.4e+38'],
      [0, '0.0'],
    ];
    for (const [x, want] of cases) assert.equal(float32Repr(Math.fround(x)), want, String(x));
  });
});
