// What locate and the reader keep about an interpreter's files between runs
// (docs/binary-facts.md): answers equal to the file's own, given back without opening the
// file, asked again of a file that changed, and a store that cannot be trusted (not
// private, a link, garbage, values not written by spyglass) ignored.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, beforeEach, describe, it } from 'node:test';
import { tempCacheHome } from '../helpers/cache-home.js';
import { BinaryFacts } from '../../src/reader/binary-facts.js';
import { ElfFile } from '../../src/proc/elf.js';
import type { PythonVersion } from '../../src/reader/locate.js';

/** a binary every test machine has, with an entry point and exported symbols */
const NODE = process.execPath;
const NAMES = ['napi_create_object', 'uv_loop_init', 'no_such_symbol_here'];

describe('binary facts kept between runs', () => {
  const cacheHome = tempCacheHome('spyglass-facts-');
  let home: string;
  let store: string;
  let bin: string;
  before(() => {
    home = cacheHome();
    store = join(home, 'spyglass', 'binaries.v1.json');
    bin = join(home, 'binary');
    copyFileSync(NODE, bin);
  });
  beforeEach(() => rmSync(join(home, 'spyglass'), { recursive: true, force: true }));

  /** facts of bin in a new store (a new run), and how many times the file itself was opened */
  function run(path = bin) {
    const opened = { count: 0 };
    const facts = new BinaryFacts();
    const elf = facts.file(path, () => {
      opened.count++;
      return ElfFile.open(path);
    });
    const answers = {
      entry: elf.entry,
      firstLoad: elf.firstLoadVaddr,
      symbols: NAMES.map((n) => elf.symbol(n)),
      exported: NAMES.map((n) => elf.exported(n)),
      bss: elf.section('.bss'),
    };
    elf.close();
    facts.save();
    return { answers, opened: opened.count, facts, elf };
  }

  function truth() {
    const elf = ElfFile.open(bin);
    try {
      const bss = elf.section('.bss')!;
      return {
        entry: elf.entry,
        firstLoad: elf.firstLoadVaddr,
        symbols: NAMES.map((n) => elf.symbol(n)),
        exported: NAMES.map((n) => elf.exported(n)),
        bss: { addr: bss.addr, size: bss.size },
      };
    } finally {
      elf.close();
    }
  }

  it('answers as the file does, and the next run answers without opening it', () => {
    const want = truth();
    assert.ok(want.symbols[0] && want.symbols[2] === undefined, 'premise: one symbol found, one not');
    const first = run();
    assert.deepEqual(first.answers, want);
    assert.equal(first.opened, 1);
    assert.equal(statSync(store).mode & 0o777, 0o600);
    assert.equal(statSync(join(home, 'spyglass')).mode & 0o777, 0o700);
    const second = run();
    assert.deepEqual(second.answers, want);
    assert.equal(second.opened, 0, 'every answer came from the store');
    // written whole, then renamed: no temporary file is left
    assert.deepEqual(readdirSync(join(home, 'spyglass')), ['binaries.v1.json']);
  });

  it('keeps a version with its file', () => {
    const v: PythonVersion = { major: 3, minor: 12, micro: 1, releaselevel: 'final', serial: 0, text: '3.12.1' };
    const a = new BinaryFacts();
    const elf = a.file(bin, () => ElfFile.open(bin));
    assert.equal(a.version(elf), undefined);
    a.rememberVersion(elf, v);
    a.save();
    const b = new BinaryFacts();
    assert.deepEqual(b.version(b.file(bin, () => assert.fail('opened'))), v);
  });

  it('asks a file that changed again', () => {
    run();
    const later = new Date(Date.now() + 5000);
    utimesSync(bin, later, later);
    assert.equal(run().opened, 1);
    assert.equal(run().opened, 0);
  });

  it('ignores a store it cannot trust', () => {
    run();
    // writable by others
    chmodSync(store, 0o666);
    assert.equal(run().opened, 1);
    // (the run wrote a private one again)
    assert.equal(statSync(store).mode & 0o777, 0o600);
    assert.equal(run().opened, 0);
    // a directory others may enter
    chmodSync(join(home, 'spyglass'), 0o755);
    assert.equal(run().opened, 1);
    chmodSync(join(home, 'spyglass'), 0o700);
    // a link to a file elsewhere
    const elsewhere = join(home, 'elsewhere.json');
    writeFileSync(elsewhere, readFileSync(store), { mode: 0o600 });
    rmSync(store);
    symlinkSync(elsewhere, store);
    assert.equal(run().opened, 1);
  });

  it('asks the file again for what the store holds in a shape it does not write', () => {
    const want = truth();
    run();
    for (const garbage of ['{"format":1,"files":', 'null', '{"format":1,"files":null}', '{"format":2,"files":{}}']) {
      writeFileSync(store, garbage, { mode: 0o600 });
      const r = run();
      assert.equal(r.opened, 1, garbage);
      assert.deepEqual(r.answers, want);
    }
    // values that are not hex numbers as spyglass writes them
    const doc = JSON.parse(readFileSync(store, 'utf8'));
    const rec = Object.values(doc.files)[0] as Record<string, any>;
    rec.entry = '0x1; rm -rf';
    rec.sym[NAMES[0]] = ['zz', '10'];
    rec.exp[NAMES[1]] = 42;
    rec.sec = 'not a table';
    writeFileSync(store, JSON.stringify(doc), { mode: 0o600 });
    const r = run();
    assert.equal(r.opened, 1);
    assert.deepEqual(r.answers, want);
  });

  it('keeps at most 64 files, the most recently used', () => {
    const doc = { format: 1, files: {} as Record<string, unknown> };
    for (let i = 0; i < 100; i++) doc.files[`1:${i}:1:1:1`] = { used: i, sym: {}, exp: {}, sec: {} };
    run();
    Object.assign(doc.files, JSON.parse(readFileSync(store, 'utf8')).files);
    writeFileSync(store, JSON.stringify(doc), { mode: 0o600 });
    const later = new Date(Date.now() + 10000);
    utimesSync(bin, later, later); // a new identity: something to write
    run();
    const kept = Object.entries(JSON.parse(readFileSync(store, 'utf8')).files) as Array<[string, { used: number }]>;
    assert.equal(kept.length, 64);
    // the file used today and the 63 most recent of the rest
    assert.ok(kept.some(([, r]) => r.used > 1e12));
    assert.deepEqual(
      kept
        .filter(([, r]) => r.used < 1e12)
        .map(([, r]) => r.used)
        .sort((a, b) => a - b)[0],
      100 - 62,
    );
  });
});
