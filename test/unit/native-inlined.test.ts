// Inlined functions as native frames of their own: a library built with gcc -O2 -g
// (test/fixtures/native/inlined.c) whose exported hold_inlined waits inside two
// always_inline functions, called through ctypes by a real Python
// (test/targets/native_inlined.py). Built with DWARF 2 to 5, compressed, and with
// its debug information in a separate file; each must expand to exactly
// inner_wait -> outer_wait -> hold_inlined with the lines of the marker comments, and
// agree with what `addr2line -i -f -C` says of the same address; a C++ form
// (test/fixtures/native/inlined.cpp) names inlined member functions by their linkage names.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { tempCacheHome } from '../helpers/cache-home.js';
import { join } from 'node:path';
import { PooledFile } from '../../src/native/file-pool.js';
import { indexFileName } from '../../src/native/index-store.js';
import { type InlinedFunctions, openInlined } from '../../src/native/inlined.js';
import { openLineTable } from '../../src/native/line-table.js';
import { ModuleIndex } from '../../src/native/module-index.js';
import { NativeProcess } from '../../src/native/native-process.js';
import { loadSymbols } from '../../src/native/symbols.js';
import { ElfFile } from '../../src/proc/elf.js';
import type { NativeFrame } from '../../src/native/types.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { FixtureDir, hasGcc, nativeStackOf, sourceMarkerLine } from '../helpers/native-fixture.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';

const SOURCE = join(PACKAGE_ROOT, 'test', 'fixtures', 'native', 'inlined.c');
const CXX_SOURCE = join(PACKAGE_ROOT, 'test', 'fixtures', 'native', 'inlined.cpp');
const LIB = 'libinlined.so';

const markerLine = (marker: string, source = SOURCE): number => sourceMarkerLine(source, marker);

function hasGxx(): boolean {
  try {
    execFileSync('g++', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function hasAddr2line(): boolean {
  try {
    execFileSync('addr2line', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The library's load address in the target (where file offset 0 is mapped). */
function loadBase(pid: number, lib: string): bigint {
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const f = line.split(/\s+/);
    if (f[5] === lib && BigInt(`0x${f[2]}`) === 0n) return BigInt(`0x${f[0].split('-')[0]}`);
  }
  throw new Error(`${lib} is not mapped in ${pid}`);
}

/** addr2line -i -f -C's answer for one link-time address: [function, file:line] per level, innermost first. */
function addr2line(lib: string, addr: bigint): string[][] {
  const out = execFileSync('addr2line', ['-i', '-f', '-C', '-e', lib, `0x${addr.toString(16)}`], { encoding: 'utf8' })
    .trim()
    .split('\n');
  const levels: string[][] = [];
  for (let i = 0; i + 1 < out.length; i += 2) levels.push([out[i], out[i + 1].replace(/ \(discriminator \d+\)$/, '')]);
  return levels;
}

const python = discoverPythons()[0];

describe('inlined functions as native frames', {
  skip: (!hasGcc() || !hasAddr2line() || !python) && 'gcc, binutils or Python missing',
}, () => {
  let fx: FixtureDir;
  before(() => {
    fx = new FixtureDir();
  });
  after(() => fx.cleanup());

  /** Builds the library into its own folder (the file name stays libinlined.so) with these compiler flags. */
  function build(name: string, flags: string[], source = SOURCE, compiler = 'gcc'): string {
    const lib = join(fx.dir, name, LIB);
    execFileSync('mkdir', ['-p', join(fx.dir, name)]);
    execFileSync(compiler, ['-O2', '-shared', '-fPIC', ...flags, '-o', lib, source]);
    return lib;
  }

  /**
   * The frames of the library's code (expanded, with lines) once the target's main thread
   * waits inside hold_inlined (READY comes just before the call: looked at again until it
   * is there), and what addr2line says of the physical frame's address.
   */
  async function framesIn(lib: string, mode: 'pause' | 'spin'): Promise<{ frames: NativeFrame[]; a2l: string[][]; notes: string[] }> {
    const target = await startTarget(python, 'native_inlined.py', [lib, mode], { notChild: true });
    try {
      await target.waitFor(/READY/);
      const np = new NativeProcess(target.pid);
      try {
        for (let i = 0; i < 50; i++) {
          if (i) await new Promise((r) => setTimeout(r, 50));
          const { frames } = await nativeStackOf(np, target.pid);
          const physical = frames.find((f) => f.name === 'hold_inlined');
          // spinning: the thread must be in the loop itself, not on its way in
          if (!physical || (mode === 'spin' && frames[0] !== physical)) continue;
          const expanded = np.expand(frames, { lines: true }).filter((f) => f.module === LIB);
          // the innermost frame's pc is exact; a caller's return address is looked up one byte back
          const link = physical.address - loadBase(target.pid, lib) - (frames[0] === physical ? 0n : 1n);
          return { frames: expanded, a2l: addr2line(lib, link), notes: [...np.notes] };
        }
        throw new Error('the target never waited inside hold_inlined');
      } finally {
        np.close();
      }
    } finally {
      await target.stop();
    }
  }

  const chain = (frames: NativeFrame[]) => frames.map((f) => [f.name, f.inlined === true, f.file, f.line]);
  const expected = (innermost: string) => [
    ['inner_wait', true, SOURCE, markerLine(innermost)],
    ['outer_wait', true, SOURCE, markerLine('outer')],
    ['hold_inlined', false, SOURCE, markerLine('exported')],
  ];
  const asAddr2line = (frames: NativeFrame[]) => frames.map((f) => [f.name, `${f.file}:${f.line}`]);

  for (const [label, flags] of [
    ['DWARF 5', ['-gdwarf-5']],
    ['DWARF 4', ['-gdwarf-4']],
    ['DWARF 3', ['-gdwarf-3']],
    ['DWARF 2', ['-gdwarf-2']],
  ] as const) {
    it(`${label}: a call inside the chain (pause) expands to inner_wait -> outer_wait -> hold_inlined, as addr2line -i says`, async () => {
      const lib = build(`v${label.slice(-1)}`, ['-g', ...flags]);
      const { frames, a2l, notes } = await framesIn(lib, 'pause');
      assert.deepEqual(notes, []);
      assert.deepEqual(chain(frames), expected('inner-pause'));
      assert.deepEqual(asAddr2line(frames), a2l);
      // all three share the one address: inlined frames are no calls of their own
      assert.equal(new Set(frames.map((f) => f.address)).size, 1);
    });

    it(`${label}: the innermost frame (a spin) expands the same way, at the loop's line`, async () => {
      const lib = build(`v${label.slice(-1)}`, ['-g', ...flags]);
      const { frames, a2l } = await framesIn(lib, 'spin');
      assert.deepEqual(chain(frames), expected('inner-spin'));
      assert.deepEqual(asAddr2line(frames), a2l);
    });
  }

  it('reads compressed debug sections (-gz)', async () => {
    const lib = build('gz', ['-g', '-gz=zlib']);
    assert.match(execFileSync('readelf', ['-SW', lib], { encoding: 'utf8' }), /\.debug_info\s+PROGBITS(\s+\S+){4}\s+C/);
    const { frames } = await framesIn(lib, 'pause');
    assert.deepEqual(chain(frames), expected('inner-pause'));
  });

  it('reads the separate debug file named by .gnu_debuglink', async () => {
    const lib = build('split', ['-g']);
    execFileSync('objcopy', ['--only-keep-debug', lib, `${lib}.debug`]);
    execFileSync('strip', ['--strip-debug', lib]);
    execFileSync('objcopy', [`--add-gnu-debuglink=${lib}.debug`, lib]);
    assert.doesNotMatch(execFileSync('readelf', ['-SW', lib], { encoding: 'utf8' }), /\.debug_info/);
    const { frames } = await framesIn(lib, 'pause');
    assert.deepEqual(chain(frames), expected('inner-pause'));
  });

  it('C++: inlined member functions are named by their demangled linkage names', {
    skip: !hasGxx() && 'g++ is not installed',
  }, async () => {
    const lib = build('cxx', ['-g'], CXX_SOURCE, 'g++');
    const { frames, a2l } = await framesIn(lib, 'pause');
    assert.deepEqual(chain(frames), [
      ['ns::Waiter::inner(int)', true, CXX_SOURCE, markerLine('cxx-inner', CXX_SOURCE)],
      ['ns::Waiter::outer(int)', true, CXX_SOURCE, markerLine('cxx-outer', CXX_SOURCE)],
      ['hold_inlined', false, CXX_SOURCE, markerLine('cxx-exported', CXX_SOURCE)],
    ]);
    assert.deepEqual(asAddr2line(frames), a2l);
  });

  it('without debug information the physical frame stands alone', async () => {
    const lib = build('nodebug', []);
    const { frames } = await framesIn(lib, 'pause');
    assert.deepEqual(chain(frames), [['hold_inlined', false, undefined, undefined]]);
  });
});

/** The inlined-function index of a library file, as a cold run opens it. */
function inlinedOf(path: string): InlinedFunctions {
  const elf = ElfFile.open(path);
  try {
    // read later through the pool of open files, as modules.ts does
    const lines = openLineTable(elf, new PooledFile(path));
    assert.ok(lines, `${path} has line tables`);
    const inlined = openInlined(elf, lines, new PooledFile(path));
    assert.ok(inlined, `${path} has .debug_info and .debug_aranges`);
    return inlined;
  } finally {
    elf.close();
  }
}

/** The shared libpython (built with -g, as pyenv's are) of the first interpreter found that has one. */
const libpython = discoverPythons().find((p) => p.build === 'shared');
function libpythonPath(py: NonNullable<typeof libpython>): string {
  const code = 'import sysconfig, os; print(os.path.join(*(sysconfig.get_config_var(v) for v in ("LIBDIR", "INSTSONAME"))))';
  return execFileSync(py.path, ['-c', code], { encoding: 'utf8' }).trim();
}

describe('inline chains kept in the native index', { skip: (!hasGcc() || !python) && 'gcc or Python missing' }, () => {
  let fx: FixtureDir;
  const cacheHome = tempCacheHome('spyglass-index-');
  before(() => {
    fx = new FixtureDir();
  });
  after(() => fx.cleanup());

  /** A stored index read back from its file, as the next run does (under a name this run has not loaded). */
  function reread(from: string, identity: string): ModuleIndex {
    const dir = join(cacheHome(), 'spyglass', 'native');
    const copy = `b-copy${Math.random().toString(16).slice(2)}`;
    copyFileSync(join(dir, indexFileName(from)), join(dir, indexFileName(copy)));
    return ModuleIndex.open(copy, identity);
  }

  /**
   * Stores the chains of each function [start, end) of lib, then checks, at every byte of
   * each, that the index read back from its file answers what a cold parse (at()) does.
   * Returns how many addresses had something inlined.
   */
  function storedEqualsCold(lib: string, functions: Array<[number, number]>, name: string): number {
    const inlined = inlinedOf(lib);
    const index = ModuleIndex.open(name, 'identity 1');
    for (const [start, end] of functions) index.addChains(start, start, end, inlined.chainsIn(start, end));
    index.save();
    const back = reread(name, 'identity 1');
    let withChain = 0;
    for (const [start, end] of functions) {
      for (let pc = start; pc < end; pc++) {
        const cold = inlined.at(pc);
        assert.deepEqual(back.chainAt(pc), cold ?? null, `${lib} at 0x${pc.toString(16)}`);
        if (cold) withChain++;
      }
    }
    // outside every function stored: not known, so a run reads .debug_info for it
    assert.equal(back.chainAt(functions[0][0] - 1), undefined);
    return withChain;
  }

  for (const flags of [['-gdwarf-5'], ['-gdwarf-4'], ['-gdwarf-2'], ['-gdwarf-5', '-gz=zlib']]) {
    it(`${flags.join(' ')}: the chains read back answer what a cold parse does, at every address of hold_inlined`, () => {
      const dir = join(fx.dir, flags.join('').replace(/\W/g, ''));
      execFileSync('mkdir', ['-p', dir]);
      const lib = join(dir, LIB);
      execFileSync('gcc', ['-O2', '-shared', '-fPIC', '-g', ...flags, '-o', lib, SOURCE]);
      const elf = ElfFile.open(lib);
      const sym = elf.symbol('hold_inlined')!;
      elf.close();
      const start = Number(sym.value);
      const withChain = storedEqualsCold(lib, [[start, start + Number(sym.size)]], `b-fixture${dir.length}${flags.length}`);
      // both the spin and the pause sit inside inner_wait inside outer_wait
      assert.ok(withChain > 0);
      const inlined = inlinedOf(lib);
      const names = new Set(
        Array.from(inlined.chainsIn(start, start + Number(sym.size)).chain).flatMap((c) => (c ? [c.names.join(' < ')] : [])),
      );
      assert.ok(names.has('inner_wait < outer_wait'), [...names].join(', '));
    });
  }

  it('libpython: the chains read back answer what a cold parse does, at every address of a sample of its functions', {
    skip: !libpython && 'no interpreter with a shared libpython',
  }, () => {
    const lib = libpythonPath(libpython!);
    const elf = ElfFile.open(lib);
    const table = loadSymbols(elf, undefined);
    const waiting = ['take_gil', 'PyThread_acquire_lock_timed'].map((name) => Number(elf.symbol(name)?.value ?? 0));
    elf.close();
    const { starts, ends } = table.parts();
    // every 200th function (some 60-80 of them), and ones a waiting thread shows
    const picked: Array<[number, number]> = [];
    for (let i = 0; i < starts.length; i += 200) if (ends[i] - starts[i] < 20000) picked.push([starts[i], ends[i]]);
    for (const start of waiting) {
      const hit = start ? table.lookup(start) : undefined;
      if (hit) picked.push([start, hit.end]);
    }
    picked.sort((a, b) => a[0] - b[0]);
    const kept = picked.filter((r, i) => i === 0 || r[0] >= picked[i - 1][1]);
    assert.ok(storedEqualsCold(lib, kept, 'b-libpython-test') > 100);
  });
});
