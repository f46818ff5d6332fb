import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressSpace, parseMaps } from '../../src/proc/maps.js';
import { parseStat } from '../../src/proc/process.js';
import { versionFromHex, versionFromString } from '../../src/reader/locate.js';
import { ElfFile } from '../../src/proc/elf.js';

test('parseMaps reads addresses, permissions, offsets and paths (with spaces)', () => {
  const maps = parseMaps(
    '55d0c0000000-55d0c0001000 r--p 00000000 08:01 131 /usr/bin/python3.11\n' +
      '7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n' +
      '7f0000021000-7f0000022000 r-xp 00002000 08:01 99 /opt/my dir/libpython3.12.so.1.0\n',
  );
  assert.equal(maps.length, 3);
  assert.equal(maps[0].start, 0x55d0c0000000n);
  assert.equal(maps[0].perms, 'r--p');
  assert.equal(maps[1].path, '');
  assert.equal(maps[2].path, '/opt/my dir/libpython3.12.so.1.0');
  assert.equal(maps[2].offset, 0x2000n);
  const space = new AddressSpace(maps);
  assert.ok(space.contains(0x7f0000020ff8, 16), 'adjacent readable mappings merge');
  assert.ok(!space.contains(0x7f0000022000));
  assert.ok(!space.contains(0x1000));
});

test('parseStat copes with parentheses and spaces in comm', () => {
  const s = parseStat('1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 17 4 0 0 20 0 3 0');
  assert.equal(s.comm, 'my (odd) name');
  assert.equal(s.state, 'S');
  assert.equal(s.ppid, 1);
  assert.equal(s.utime, 17);
  assert.equal(s.stime, 4);
});

test('versions decode from PY_VERSION_HEX and from sys.version text', () => {
  assert.equal(versionFromHex(0x030b07f0).text, '3.11.7');
  assert.equal(versionFromHex(0x030d00c2).text, '3.13.0rc2');
  assert.equal(versionFromHex(0x030e00a1).releaselevel, 'alpha');
  assert.equal(versionFromString('junk\u00003.9.18 (main, Nov  1 2023, 10:00:00) [GCC 12]')?.text, '3.9.18');
  assert.equal(versionFromString('3.10.0rc2 (default')?.serial, 2);
  assert.equal(versionFromString('version 3 of the file'), undefined);
});

test('ElfFile finds exported symbols and the entry point of the running node binary', () => {
  const elf = ElfFile.open(process.execPath);
  try {
    assert.ok(elf.entry > 0n);
    assert.ok(elf.segments.some((s) => s.type === 1));
    assert.ok(elf.symbol('napi_create_object'), 'node exports its N-API symbols');
    assert.equal(elf.symbol('definitely_not_a_symbol_xyz'), undefined);
  } finally {
    elf.close();
  }
});
