// What compressed debug data costs spyglass, on copies of pyenv's libpython3.12 (30 MB,
// 4000+ static functions):
//  - MiniDebugInfo (.gnu_debugdata), given the way Fedora does
//    (test/helpers/native-fixture.ts): the first decompression (the WebAssembly decoder
//    compiled and instantiated too), a later one, and naming a few static functions with
//    and without it;
//  - its debug sections compressed by objcopy with zstd (fzstd, JavaScript) and with zlib
//    (Node's own): the CPU time of the line table's first look-ups, which decompress them.
// Run with
//   npm run build && env -u NODE_EXTRA_CA_CERTS node dist/bench/compressed-debug.js
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { lineAt, openLineTable } from '../src/native/line-table.js';
import { readMiniDebugInfo } from '../src/native/mini-debuginfo.js';
import { loadSymbols } from '../src/native/symbols.js';
import { ElfFile } from '../src/proc/elf.js';
import { addMiniDebugInfo } from '../test/helpers/native-fixture.js';

const LIBPYTHON = '/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0';
const RUNS = 9;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const dir = mkdtempSync(join(tmpdir(), 'spyglass-bench-minidebuginfo-'));
try {
  const lib = join(dir, 'libpython3.12.so.1.0');
  copyFileSync(LIBPYTHON, lib);
  // a few static functions, by address, from the unstripped copy
  const statics = execFileSync('nm', ['--format=posix', '--defined-only', lib], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([, type]) => type === 't')
    .slice(0, 200)
    .map(([name, , addr]) => ({ name, pc: Number.parseInt(addr, 16) }));
  addMiniDebugInfo(lib);
  const elf = ElfFile.open(lib);
  const section = elf.section('.gnu_debugdata')!;
  const times: number[] = [];
  let first = 0;
  let image: ElfFile | undefined;
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now();
    image = await readMiniDebugInfo(elf);
    const ms = performance.now() - t0;
    if (i === 0) first = ms;
    else times.push(ms);
  }
  const pcs = statics.map((s) => s.pc);
  const t1 = performance.now();
  const bare = loadSymbols(elf, undefined);
  const without = pcs.map((pc) => bare.lookup(pc));
  const withoutMs = performance.now() - t1;
  const withTimes: number[] = [];
  let withMini = without;
  let table = bare;
  for (let i = 0; i < RUNS; i++) {
    const t2 = performance.now();
    table = loadSymbols(elf, undefined, undefined, image);
    withMini = pcs.map((pc) => table.lookup(pc));
    withTimes.push(performance.now() - t2);
  }
  const withMs = median(withTimes);
  const named = (hits: typeof without) => hits.filter((h, i) => h?.name === statics[i].name).length;
  console.log(
    `machine: ${cpus()[0].model}, ${cpus().length} cores; node ${process.version}; load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(`library: ${LIBPYTHON} stripped, with .gnu_debugdata (file ${statSync(lib).size} bytes)`);
  console.log('| measure | value |');
  console.log('|---|---|');
  console.log(`| .gnu_debugdata: xz bytes -> ELF image bytes | ${section.size} -> ${statSize(image!)} |`);
  console.log(`| first decompression (decoder compiled and instantiated too), ms | ${first.toFixed(1)} |`);
  console.log(`| later decompression, ms (median of ${RUNS}) | ${median(times).toFixed(1)} |`);
  console.log(
    `| ${pcs.length} static functions named through the sorted table (built, as a first run does before the native index keeps it) without / with it: named, ms (with: median of ${RUNS}) | ${named(without)} in ${withoutMs.toFixed(1)} / ${named(withMini)} in ${withMs.toFixed(1)} |`,
  );
  console.log(`| sorted table with it: symbols | ${table.size} |`);
  elf.close();
  lineCost(dir, statics.slice(0, 30));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * CPU ms of a new line table's look-ups at these functions (the first decompresses the
 * sections), per compression, each measured RUNS times in turn; medians.
 */
function lineCost(dir: string, fns: Array<{ pc: number }>): void {
  const libs = ['zstd', 'zlib'].map((kind) => {
    const lib = join(dir, `libpython-${kind}.so`);
    copyFileSync(LIBPYTHON, lib);
    execFileSync('objcopy', [`--compress-debug-sections=${kind}`, lib]);
    return { kind, lib, ms: [] as number[], found: 0 };
  });
  for (let i = 0; i < RUNS; i++) {
    for (const l of libs) {
      const elf = ElfFile.open(l.lib);
      const c0 = process.cpuUsage();
      const table = openLineTable(elf)!;
      l.found = fns.filter((f) => {
        const rows = table.rowsIn(f.pc + 4, f.pc + 4, f.pc + 5);
        return rows && lineAt(rows, f.pc + 4);
      }).length;
      const c = process.cpuUsage(c0);
      l.ms.push((c.user + c.system) / 1000);
      elf.close();
    }
  }
  for (const l of libs)
    console.log(
      `| debug sections compressed with ${l.kind}: a new table's first ${fns.length} look-ups (${l.found} found), CPU ms (median of ${RUNS}) | ${median(l.ms).toFixed(0)} |`,
    );
}

/** The size of an in-memory ELF image: where its section headers end. */
function statSize(image: ElfFile): number {
  return Math.max(...image.sections.map((s) => Number(s.offset + (s.type === 8 ? 0n : s.size))));
}
