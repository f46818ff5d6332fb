// The line tables' open files are bounded (src/native/file-pool.ts): more tables than
// the bound, each over its own copy of a library built with gcc -g
// (test/fixtures/native/lines.c), keep at most MAX_OPEN_FILES descriptors open (counted
// in /proc/self/fd) while every look-up, round after round, still finds the line
// addr2line finds; a file closed by the bound and changed on disk meanwhile is refused, not misread.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_OPEN_FILES, openFileCount, PooledFile } from '../../src/native/file-pool.js';
import { type LineTable, lineAt, openLineTable } from '../../src/native/line-table.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { ElfFile } from '../../src/proc/elf.js';
import { hasGcc } from '../helpers/native-fixture.js';

const SOURCE = join(PACKAGE_ROOT, 'test', 'fixtures', 'native', 'lines.c');
const COPIES = MAX_OPEN_FILES + 8;

const openFds = () => readdirSync('/proc/self/fd').length;

/** The line a table gives pc, through the rows of the one-byte range at it. */
function lineOf(t: LineTable, pc: number) {
  const rows = t.rowsIn(pc, pc, pc + 1);
  return rows && lineAt(rows, pc);
}

describe('open files of the line tables', { skip: !hasGcc() && 'gcc is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-file-pool-'));
  const lib = join(dir, 'liblines.so');
  let pc = 0;
  /** addr2line's answer for pc: what every look-up must find */
  let expected = { file: '', line: 0 };
  before(() => {
    execFileSync('gcc', ['-g', '-O1', '-shared', '-fPIC', '-o', lib, SOURCE]);
    // the tables read .debug_info through the pool only when .debug_aranges says which unit to read
    assert.match(execFileSync('readelf', ['-SW', lib], { encoding: 'utf8' }), /\.debug_aranges/);
    const m = /^hold_inner [Tt] ([0-9a-f]+)/m.exec(execFileSync('nm', ['--format=posix', lib], { encoding: 'utf8' }));
    pc = Number.parseInt(m![1], 16) + 1;
    const [file, line] = execFileSync('addr2line', ['-e', lib, pc.toString(16)], { encoding: 'utf8' })
      .trim()
      .split(':');
    expected = { file, line: Number(line) };
    assert.equal(file, SOURCE);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function tableOf(path: string): LineTable {
    const elf = ElfFile.open(path);
    try {
      const t = openLineTable(elf, new PooledFile(path));
      assert.ok(t);
      return t;
    } finally {
      elf.close();
    }
  }

  it(`holds at most ${MAX_OPEN_FILES} files open for ${COPIES} tables, and every look-up stays right`, () => {
    const base = openFds() - openFileCount();
    const tables: LineTable[] = [];
    for (let i = 0; i < COPIES; i++) {
      const copy = join(dir, `copy${i}.so`);
      copyFileSync(lib, copy);
      tables.push(tableOf(copy));
      assert.ok(openFds() - base <= MAX_OPEN_FILES, `${openFds() - base} open after ${i + 1} tables`);
    }
    for (let round = 0; round < 2; round++) {
      for (const t of tables) {
        assert.deepEqual(lineOf(t, pc), expected);
        assert.ok(openFds() - base <= MAX_OPEN_FILES, `${openFds() - base} open`);
      }
    }
    assert.equal(openFileCount(), MAX_OPEN_FILES);
  });

  it('refuses a file that changed on disk after the bound closed it', () => {
    const changed = join(dir, 'changed.so');
    copyFileSync(lib, changed);
    const t = tableOf(changed);
    // enough other files read after it that it is closed
    for (let i = 0; i < MAX_OPEN_FILES; i++) {
      const other = join(dir, `other${i}.so`);
      copyFileSync(lib, other);
      new PooledFile(other).read(0, 4);
    }
    appendFileSync(changed, Buffer.of(0));
    assert.throws(() => lineOf(t, pc), /changed on disk since it was first read/);
  });
});
