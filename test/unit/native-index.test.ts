// The per-library index kept between runs (docs/native-index.md): stored whole and
// private, ignored whenever it cannot be trusted (corrupt, truncated, another format,
// another user's, writable by others, a link, made for other files), bounded in size;
// and what it gives back (names, source lines) is what the library itself gives.
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempCacheHome } from '../helpers/cache-home.js';
import { INDEX_FORMAT, indexFileName, loadIndexFile, saveIndexFile } from '../../src/native/index-store.js';
import { ModuleIndex } from '../../src/native/module-index.js';
import { loadSymbols } from '../../src/native/symbols.js';
import { ElfFile } from '../../src/proc/elf.js';

const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';

describe('native index store', () => {
  const cacheHome = tempCacheHome('spyglass-index-');
  let home: string;
  let dir: string;
  before(() => {
    home = cacheHome();
    dir = join(home, 'spyglass', 'native');
  });
  const body = (n: number, fill = 7) => Buffer.alloc(n, fill);

  it('stores a body whole in a private file and reads it back', () => {
    saveIndexFile('b-0123abcd', body(1000));
    assert.deepEqual(loadIndexFile('b-0123abcd'), body(1000));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(home, 'spyglass')).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, indexFileName('b-0123abcd'))).mode & 0o777, 0o600);
    // written to a file of its own, then renamed: nothing else is left behind
    assert.deepEqual(readdirSync(dir), [indexFileName('b-0123abcd')]);
    // a name that could leave the directory is refused
    saveIndexFile('../escape', body(10));
    assert.equal(existsSync(join(home, 'spyglass', indexFileName('escape'))), false);
    assert.equal(loadIndexFile('../escape'), undefined);
  });

  it('ignores a corrupt, truncated or other-format file', () => {
    const file = join(dir, indexFileName('b-c0ffee'));
    saveIndexFile('b-c0ffee', body(500));
    const good = readFileSync(file);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 10] ^= 1;
    writeFileSync(file, flipped);
    assert.equal(loadIndexFile('b-c0ffee'), undefined, 'one bit changed');
    writeFileSync(file, good.subarray(0, good.length - 1));
    assert.equal(loadIndexFile('b-c0ffee'), undefined, 'truncated');
    const other = Buffer.from(good);
    other.writeUInt32LE(INDEX_FORMAT + 1, good.indexOf(10) + 1);
    writeFileSync(file, other);
    assert.equal(loadIndexFile('b-c0ffee'), undefined, 'another format version');
    writeFileSync(file, good);
    assert.deepEqual(loadIndexFile('b-c0ffee'), body(500));
  });

  it('trusts neither a file others may write, nor a directory others may enter, nor a link', () => {
    const file = join(dir, indexFileName('b-5afe'));
    saveIndexFile('b-5afe', body(100));
    chmodSync(file, 0o622);
    assert.equal(loadIndexFile('b-5afe'), undefined, 'writable by group and others');
    chmodSync(file, 0o600);
    assert.deepEqual(loadIndexFile('b-5afe'), body(100));

    chmodSync(dir, 0o755);
    assert.equal(loadIndexFile('b-5afe'), undefined, 'a directory others may enter');
    saveIndexFile('b-5afe', body(100, 9));
    assert.deepEqual(readFileSync(file).subarray(-100), body(100), 'nothing written there either');
    chmodSync(dir, 0o700);

    // a link to a valid index elsewhere is not followed; saving replaces the link, not its target
    const elsewhere = join(home, 'elsewhere.idx');
    copyFileSync(file, elsewhere);
    rmSync(file);
    symlinkSync(elsewhere, file);
    assert.equal(loadIndexFile('b-5afe'), undefined, 'a link');
    saveIndexFile('b-5afe', body(100, 3));
    assert.deepEqual(readFileSync(elsewhere).subarray(-100), body(100));
    assert.deepEqual(loadIndexFile('b-5afe'), body(100, 3));
  });

  it("ignores another user's file", { skip: process.getuid!() !== 0 && 'needs root to give a file away' }, () => {
    const file = join(dir, indexFileName('b-f0e1'));
    saveIndexFile('b-f0e1', body(100));
    chownSync(file, 1, 1);
    assert.equal(loadIndexFile('b-f0e1'), undefined);
  });

  it('bounds one file and all of them together', () => {
    const limits = { fileBytes: 4096, dirBytes: 3 * 4096 };
    saveIndexFile('b-big', body(5000), limits);
    assert.equal(existsSync(join(dir, indexFileName('b-big'))), false, 'a file over the limit is not written');
    rmSync(dir, { recursive: true });
    // four files of 3.5 kB: the least recently written goes
    for (const [i, name] of ['b-1', 'b-2', 'b-3', 'b-4'].entries()) {
      saveIndexFile(name, body(3500), limits);
      const t = new Date(Date.now() - (10 - i) * 60_000);
      utimesSync(join(dir, indexFileName(name)), t, t);
    }
    assert.deepEqual(readdirSync(dir).sort(), [indexFileName('b-2'), indexFileName('b-3'), indexFileName('b-4')]);
  });
});

describe('native index of a library', { skip: !existsSync(LIBC) && `${LIBC} is not there` }, () => {
  const cacheHome = tempCacheHome('spyglass-index-');
  let home: string;
  let elf: ElfFile;
  before(() => {
    home = cacheHome();
    elf = ElfFile.open(LIBC);
  });
  after(() => elf.close());
  const ROWS = { addr: [0x1000, 0x1008, 0x1010, 0x1020], line: [10, 11, 0, 12], file: ['a.c', 'b.h', '', 'a.c'] };

  /** A stored index read back from the file, as another run would (under a name this run has not loaded). */
  function reread(from: string, identity: string): ModuleIndex {
    const copy = `b-copy${Math.random().toString(16).slice(2)}`;
    copyFileSync(join(home, 'spyglass', 'native', indexFileName(from)), join(home, 'spyglass', 'native', indexFileName(copy)));
    return ModuleIndex.open(copy, identity);
  }

  it("gives back the library's own names and the lines kept, for the same files only", () => {
    const table = loadSymbols(elf, undefined);
    const index = ModuleIndex.open('b-libc-test', 'libc 1');
    index.setSymbols(table);
    index.addLines(0x1000, 0x1000, 0x1030, ROWS);
    index.addLines(0x2000, 0x2000, 0x2100, { addr: [], line: [], file: [] });
    // a function met at 0xff8 whose symbol reaches over the range kept above: cut before it
    index.addLines(0xff8, 0xf00, 0x1100, { addr: [0xf00, 0x1000], line: [7, 99], file: ['c.c', 'c.c'] });
    const units = {
      starts: Float64Array.of(0x1000, 0x3000),
      ends: Float64Array.of(0x2000, 0x3100),
      stmtList: Float64Array.of(0, -1),
      compDir: ['/src', ''],
    };
    index.setUnits(units);
    index.save();

    const back = reread('b-libc-test', 'libc 1');
    assert.ok(back.symbols);
    assert.equal(back.symbols.size, table.size);
    // every symbol's start, middle and last byte names the same function at the same offset
    const { starts, ends } = table.parts();
    for (let i = 0; i < starts.length; i++) {
      for (const pc of [starts[i], Math.floor((starts[i] + ends[i]) / 2), ends[i] - 1]) {
        assert.deepEqual(back.symbols.lookup(pc), table.lookup(pc), `0x${pc.toString(16)}`);
      }
    }
    for (const name of ['malloc', 'pause']) assert.equal(back.symbols.lookup(Number(elf.symbol(name)!.value))?.name, name);
    // lines: the row holding each address, none in a gap, none outside the function, none in a function without lines
    assert.deepEqual(back.lineAt(0x1004), { file: 'a.c', line: 10 });
    assert.deepEqual(back.lineAt(0x100f), { file: 'b.h', line: 11 });
    assert.equal(back.lineAt(0x1012), null);
    assert.deepEqual(back.lineAt(0x102f), { file: 'a.c', line: 12 });
    assert.equal(back.lineAt(0x1030), undefined, 'past the function: not known');
    assert.deepEqual(back.lineAt(0xff8), { file: 'c.c', line: 7 });
    assert.equal(back.lineAt(0xeff), undefined);
    assert.equal(back.lineAt(0x2050), null, 'known to have no line');
    assert.deepEqual(back.units, units);

    // made for other files (another size or modification time): ignored
    const other = reread('b-libc-test', 'libc 2');
    assert.equal(other.symbols, undefined);
    assert.equal(other.lineAt(0x1004), undefined);
  });

  it('keeps inline chains per function: call sites, chains shared by rows, and functions with nothing inlined', () => {
    const outer = { names: ['inner', 'outer'], callSites: [{ file: '/src/a.h', line: 7 }, undefined] };
    const other = { names: ['ns::f(int)'], callSites: [{ file: '/src/b.cc', line: 30 }] };
    const index = ModuleIndex.open('b-chains-test', 'chains 1');
    index.addChains(0x1000, 0x1000, 0x1040, { addr: [0x1000, 0x1010, 0x1020, 0x1030], chain: [undefined, outer, other, outer] });
    index.addChains(0x2000, 0x2000, 0x2100, { addr: [], chain: [] });
    index.addLines(0x1000, 0x1000, 0x1040, ROWS);
    index.save();
    const back = reread('b-chains-test', 'chains 1');
    assert.equal(back.chainAt(0x1008), null);
    assert.deepEqual(back.chainAt(0x1010), outer);
    assert.deepEqual(back.chainAt(0x102f), other);
    assert.deepEqual(back.chainAt(0x103f), outer);
    assert.equal(back.chainAt(0x1040), undefined, 'past the function: not known');
    assert.equal(back.chainAt(0x2080), null, 'known to have nothing inlined');
    assert.equal(back.chainAt(0x3000), undefined);
    assert.deepEqual(back.lineAt(0x1004), { file: 'a.c', line: 10 });
    // one chain met twice is written once
    const whole = readFileSync(join(home, 'spyglass', 'native', indexFileName('b-chains-test')));
    assert.match(whole.toString('utf8'), /"chains":2,/);
  });

  it('rebuilds an index whose file is corrupt, truncated or of another format version', () => {
    const dir = join(home, 'spyglass', 'native');
    const chain = { names: ['inner'], callSites: [{ file: '/src/a.h', line: 7 }] };
    const make = () => {
      const index = ModuleIndex.open('b-rebuilt-test', 'rebuilt 1');
      index.addChains(0x1000, 0x1000, 0x1040, { addr: [0x1000], chain: [chain] });
      index.save();
    };
    make();
    const file = join(dir, indexFileName('b-rebuilt-test'));
    const good = readFileSync(file);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 3] ^= 0x10;
    const older = Buffer.from(good);
    older.writeUInt32LE(INDEX_FORMAT - 1, good.indexOf(10) + 1);
    for (const [what, bad] of [
      ['corrupt', flipped],
      ['truncated', good.subarray(0, good.length - 9)],
      ['format version 1', older],
    ] as const) {
      writeFileSync(file, bad);
      const back = reread('b-rebuilt-test', 'rebuilt 1');
      assert.equal(back.chainAt(0x1000), undefined, `${what}: nothing taken from it`);
      // what this run learns is written whole over it, and the next run reads that
      back.addChains(0x1000, 0x1000, 0x1040, { addr: [0x1000], chain: [chain] });
      back.save();
      assert.deepEqual(readFileSync(join(dir, indexFileName(back.name!))), good, `${what}: rewritten as a whole file of this format`);
      assert.deepEqual(reread(back.name!, 'rebuilt 1').chainAt(0x1010), chain);
    }
  });

  it('ignores an index that does not hold what it says', () => {
    const index = ModuleIndex.open('b-bad-test', 'bad 1');
    index.addLines(0x1000, 0x1000, 0x1030, ROWS);
    index.save();
    const file = join(home, 'spyglass', 'native', indexFileName('b-bad-test'));
    const whole = readFileSync(file);
    // a well-formed store file whose body claims more rows than it holds
    const metaAt = whole.indexOf('{"identity"');
    const meta = whole.toString('utf8', metaAt, whole.indexOf('}', metaAt) + 1);
    const forged = meta.replace('"rows":4', '"rows":9');
    assert.notEqual(forged, meta);
    const bodyStart = whole.indexOf(10) + 1 + 12;
    const body = Buffer.from(whole.subarray(bodyStart));
    body.write(forged, metaAt - bodyStart, 'utf8');
    saveIndexFile('b-bad-test', body);
    const back = reread('b-bad-test', 'bad 1');
    assert.equal(back.lineAt(0x1004), undefined);
  });
});
