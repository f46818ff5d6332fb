// Symbols from MiniDebugInfo (.gnu_debugdata): a library built from
// test/fixtures/native/static-fn.c, stripped and given the section as Fedora does
// (test/helpers/native-fixture.ts). Its static function hold_static is named only
// through the decompressed image, by both look-ups (the one-pass one of dump and the
// sorted table of record), merged with what .dynsym still names; a corrupt section is
// refused with a reason.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readMiniDebugInfo } from '../../src/native/mini-debuginfo.js';
import { loadSymbols } from '../../src/native/symbols.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { ElfFile } from '../../src/proc/elf.js';
import { addMiniDebugInfo, hasGcc } from '../helpers/native-fixture.js';

const SOURCE = join(PACKAGE_ROOT, 'test', 'fixtures', 'native', 'static-fn.c');

/** Link-time address of a function, from nm on the unstripped library. */
function addressOf(lib: string, name: string): number {
  const m = new RegExp(`^${name} [Tt] ([0-9a-f]+)`, 'm').exec(execFileSync('nm', ['--format=posix', lib], { encoding: 'utf8' }));
  assert.ok(m, name);
  return Number.parseInt(m[1], 16);
}

describe('MiniDebugInfo symbols', { skip: !hasGcc() && 'gcc is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-minidebuginfo-unit-'));
  const lib = join(dir, 'libstatic.so');
  const bad = join(dir, 'libcorrupt.so');
  let staticAt = 0;
  let outerAt = 0;
  before(() => {
    execFileSync('gcc', ['-g', '-O1', '-shared', '-fPIC', '-o', lib, SOURCE]);
    staticAt = addressOf(lib, 'hold_static');
    outerAt = addressOf(lib, 'hold_outer');
    copyFileSync(lib, bad);
    addMiniDebugInfo(lib);
    addMiniDebugInfo(bad, { corrupt: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the static function only through the decompressed image, and the exported one either way', async () => {
    const elf = ElfFile.open(lib);
    try {
      const mini = await readMiniDebugInfo(elf);
      assert.ok(mini);
      const pcs = [staticAt + 2, outerAt + 3];
      // stripped: .dynsym alone knows hold_outer
      const bare = loadSymbols(elf, undefined);
      assert.deepEqual(
        pcs.map((pc) => bare.lookup(pc)?.name),
        [undefined, 'hold_outer'],
      );
      const table = loadSymbols(elf, undefined, undefined, mini);
      assert.deepEqual(
        pcs.map((pc) => {
          const hit = table.lookup(pc);
          return hit && { name: hit.name, offset: hit.offset };
        }),
        [
          { name: 'hold_static', offset: 2 },
          { name: 'hold_outer', offset: 3 },
        ],
      );
      assert.ok(table.sources.includes('.gnu_debugdata'), table.sources.join());
    } finally {
      elf.close();
    }
  });

  it("rejects a corrupt section with the decoder's reason", async () => {
    const elf = ElfFile.open(bad);
    try {
      await assert.rejects(readMiniDebugInfo(elf), /xz data cannot be decompressed \(.+\)/);
    } finally {
      elf.close();
    }
  });

  it('has nothing to read in a library without the section', async () => {
    const elf = ElfFile.open('/proc/self/exe');
    try {
      assert.equal(await readMiniDebugInfo(elf), undefined);
    } finally {
      elf.close();
    }
  });
});
