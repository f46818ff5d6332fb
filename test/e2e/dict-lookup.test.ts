// The reader looks str keys up in the target's dicts by the target's own hash
// (src/reader/str-hash.ts, docs/dict-lookup.md): the hash must be the one the process
// computes with its random secret, and a name in a dict of thousands costs a few reads,
// not one per key. test/targets/many_modules.py puts 5000 modules before `threading` in
// sys.modules, which every thread-name lookup goes through.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openReader } from '../../src/reader/reader.js';
import { StrHasher, siphash } from '../../src/reader/str-hash.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';

const WORDS = ['threading', '_active', '_name', 'a', '', 'abcdefgh', 'abcdefghi', 'fake_module_4321', 'caf\u00e9 cr\u00e8me'];

describe('str hashes and hashed dict lookups', { concurrency: true }, () => {
  test('SipHash-2-4 gives the reference vector of its paper', () => {
    // Aumasson & Bernstein, SipHash (2012), appendix A: key 00..0f, message 00..0e
    const key = Buffer.from([...Array(16).keys()]);
    const out = siphash(key.readBigUInt64LE(0), key.readBigUInt64LE(8), Uint8Array.from([...Array(15).keys()]), 2, 4);
    assert.equal(out, 0xa129ca6149be45e5n);
  });

  test('text that is not latin-1 is not hashed here (the caller compares keys instead)', () => {
    const h = new StrHasher(() => Buffer.alloc(16), 12);
    assert.equal(h.hash('\u043a\u043b\u044e\u0447'), undefined);
    assert.equal(h.hash(''), 0n);
  });

  for (const py of discoverPythons()) {
    test(`${py.label}: hash() as the process computes it; names through 5000 modules in a few reads`, async (t) => {
      const target = await startTarget(py, 'many_modules.py', [JSON.stringify(WORDS)], { readyTimeoutMs: 60000 });
      t.after(() => target.stop());
      const hashes = JSON.parse((await target.waitFor(/^READY /)).slice(6)) as string[];
      const reader = await openReader(target.pid);
      t.after(() => reader.close());
      const hasher = (reader as unknown as { objects: { hasher: StrHasher } }).objects.hasher;
      assert.deepEqual(
        WORDS.map((w) => String(hasher.hash(w))),
        hashes,
      );

      const before = reader.readCount;
      const names = reader
        .sample({ activity: false })
        .threads.map((th) => th.name)
        .sort();
      const reads = reader.readCount - before;
      assert.deepEqual(names, ['MainThread', 'alpha-worker', 'beta-worker', 'gamma-worker']);
      // a key-by-key search of sys.modules would read each of its 5000+ keys
      assert.ok(reads < 200, `${reads} reads for one sample with thread names`);
    });
  }
});
