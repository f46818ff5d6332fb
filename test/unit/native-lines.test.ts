// Source lines and separate debug files for native frames, against the C program whose
// stack is known (test/fixtures/native/frames.c): built with each DWARF version's line
// table (2 to 5), with zlib- and zstd-compressed debug sections, without .debug_aranges, and with its
// debug information moved to a separate file found through .gnu_debuglink (and refused
// when that file's CRC does not match).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildId } from '../../src/native/debug-file.js';
import { indexFileName } from '../../src/native/index-store.js';
import { openLineTable } from '../../src/native/line-table.js';
import { NativeProcess } from '../../src/native/native-process.js';
import { loadSymbols } from '../../src/native/symbols.js';
import { ElfFile } from '../../src/proc/elf.js';
import type { NativeFrame } from '../../src/native/types.js';
import { FixtureDir, FRAMES_C, hasGcc, nativeStackOf } from '../helpers/native-fixture.js';

/** The 1-based line of frames.c whose text is `code` (trimmed). */
function lineOf(code: string): number {
  const i = readFileSync(FRAMES_C, 'utf8')
    .split('\n')
    .findIndex((l) => l.trim() === code);
  assert.ok(i >= 0, code);
  return i + 1;
}

/** level3 spins on its loop; each caller's return address is on the line of its call. */
const EXPECTED = () => [
  ['level3', lineOf('for (;;) counter++;')],
  ['level2', lineOf('else level3();')],
  ['level1', lineOf('level2();')],
  ['main', lineOf('level1();')],
];

function hasBinutils(): boolean {
  try {
    execFileSync('objcopy', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('source lines of native frames', { skip: (!hasGcc() || !hasBinutils()) && 'gcc or binutils is not installed' }, () => {
  let fx: FixtureDir;
  before(() => {
    fx = new FixtureDir();
  });
  after(() => fx.cleanup());

  /**
   * The frames of exe's main thread once it spins in its own code (READY may come while it
   * is still inside libc's write() of it: looked at again, up to 50 times), with their lines.
   */
  async function ourFrames(exe: string): Promise<{ frames: NativeFrame[]; notes: string[] }> {
    const pid = await fx.start(exe);
    try {
      const np = new NativeProcess(pid);
      try {
        let { frames } = await nativeStackOf(np, pid);
        for (let i = 0; i < 50 && frames[0].module !== basename(exe); i++) {
          await new Promise((r) => setTimeout(r, 20));
          frames = (await nativeStackOf(np, pid)).frames;
        }
        return { frames: np.expand(frames, { lines: true }).slice(0, 4), notes: [...np.notes] };
      } finally {
        np.close();
      }
    } finally {
      fx.stop(pid);
    }
  }

  const withLines = (frames: NativeFrame[]) => frames.map((f) => [f.name, f.line]);

  /**
   * Every function's rows, read through the unit index as a later run gets it from the
   * stored native index (docs/native-index.md), are the rows read from the sections.
   */
  function sameThroughStoredUnits(exe: string): void {
    const elf = ElfFile.open(exe);
    try {
      const fresh = openLineTable(elf)!;
      const stored = openLineTable(elf, undefined, fresh.unitRanges())!;
      const { starts, ends } = loadSymbols(elf, undefined).parts();
      let rows = 0;
      for (let i = 0; i < starts.length; i++) {
        const want = fresh.rowsIn(starts[i], starts[i], ends[i]);
        assert.deepEqual(stored.rowsIn(starts[i], starts[i], ends[i]), want);
        rows += want?.addr.length ?? 0;
      }
      assert.ok(rows > 10, `${rows} rows`);
    } finally {
      elf.close();
    }
  }
  const sectionNames = (exe: string) => execFileSync('readelf', ['-SW', exe], { encoding: 'utf8' });
  const lineVersion = (exe: string) =>
    Number(/DWARF Version:\s+(\d+)/.exec(execFileSync('readelf', ['--debug-dump=rawline', exe], { encoding: 'utf8' }))?.[1]);

  for (const [label, flags, version] of [
    ['DWARF 5', ['-gdwarf-5'], 5],
    ['DWARF 4', ['-gdwarf-4'], 4],
    ['DWARF 2 through the assembler', ['-gdwarf-2'], 3],
    ['DWARF 2 written by gcc itself', ['-gdwarf-2', '-gno-as-loc-support'], 2],
  ] as const) {
    it(`reads a version ${version} line table (${label})`, async () => {
      const exe = fx.build(`v${version}`, ['-O0', ...flags]);
      assert.equal(lineVersion(exe), version);
      const { frames, notes } = await ourFrames(exe);
      assert.deepEqual(notes, []);
      assert.deepEqual(withLines(frames), EXPECTED());
      assert.ok(frames.every((f) => f.file === FRAMES_C));
      sameThroughStoredUnits(exe);
    });
  }

  it('keeps names and lines for the next process of the same program, which then rewrites nothing', async () => {
    const saved = process.env.XDG_CACHE_HOME;
    const home = mkdtempSync(join(tmpdir(), 'spyglass-index-'));
    process.env.XDG_CACHE_HOME = home;
    try {
      const exe = fx.build('again', ['-O0', '-g']);
      const first = await ourFrames(exe);
      const elf = ElfFile.open(exe);
      const index = join(home, 'spyglass', 'native', indexFileName(`b-${buildId(elf)}`));
      elf.close();
      // each write is a new file renamed over the old one: a new inode
      const written = statSync(index).ino;
      const second = await ourFrames(exe);
      assert.deepEqual(withLines(second.frames), withLines(first.frames));
      assert.deepEqual(withLines(first.frames), EXPECTED());
      assert.equal(statSync(index).ino, written, 'the index was written again');
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('inflates zlib-compressed debug sections (SHF_COMPRESSED)', async () => {
    const exe = fx.build('gz', ['-O0', '-g', '-gz=zlib']);
    assert.match(sectionNames(exe), /\.debug_line\s+PROGBITS\s+\S+\s+\S+\s+\S+\s+\S+\s+C/);
    const { frames } = await ourFrames(exe);
    assert.deepEqual(withLines(frames), EXPECTED());
    sameThroughStoredUnits(exe);
  });

  it('decompresses zstd-compressed debug sections (ELFCOMPRESS_ZSTD, made by objcopy)', async () => {
    const exe = fx.build('zstd', ['-O0', '-g']);
    execFileSync('objcopy', ['--compress-debug-sections=zstd', exe]);
    // the compression type is in each section's header: readelf -t prints it
    assert.match(execFileSync('readelf', ['-tW', exe], { encoding: 'utf8' }), /ZSTD/);
    const { frames, notes } = await ourFrames(exe);
    assert.deepEqual(notes, []);
    assert.deepEqual(withLines(frames), EXPECTED());
  });

  it('finds the unit by its line program when .debug_aranges is missing', async () => {
    const exe = fx.build('noaranges', ['-O0', '-g']);
    execFileSync('objcopy', ['--remove-section=.debug_aranges', exe]);
    assert.doesNotMatch(sectionNames(exe), /\.debug_aranges/);
    const { frames } = await ourFrames(exe);
    assert.deepEqual(withLines(frames), EXPECTED());
    sameThroughStoredUnits(exe);
  });

  it('takes names and lines from the separate debug file named by .gnu_debuglink, checked by its CRC', async () => {
    const split = (name: string, flags: string[]) => {
      const exe = fx.build(name, flags);
      execFileSync('objcopy', ['--only-keep-debug', exe, `${exe}.debug`]);
      execFileSync('strip', ['--strip-all', exe]);
      execFileSync('objcopy', [`--add-gnu-debuglink=${exe}.debug`, exe]);
      assert.doesNotMatch(sectionNames(exe), /\.symtab|\.debug_line/);
      return exe;
    };
    const good = await ourFrames(split('linked', ['-O0', '-g']));
    assert.deepEqual(withLines(good.frames), EXPECTED());

    // a debug file whose CRC does not match the link is someone else's: not used (built
    // differently, so that its build-id differs and nothing read above is reused)
    const exe = split('mismatch', ['-O1', '-g']);
    appendFileSync(`${exe}.debug`, Buffer.of(0));
    const bad = await ourFrames(exe);
    assert.equal(bad.frames.length, 4);
    for (const f of bad.frames) {
      assert.equal(f.module, 'mismatch');
      assert.match(f.name, /^0x[0-9a-f]+$/);
      assert.equal(f.line, undefined);
    }
  });
});
