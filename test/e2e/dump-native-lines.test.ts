// `dump --native` shows the source file and line of native frames whose module has a
// line table: a C library built here with gcc -g (test/fixtures/native/lines.c), called
// through ctypes (test/targets/native_lines.py), on every interpreter. Each C frame must
// show the line of its marker comment, in text and in --json; libc's frame shows its own
// source when its separate debug file (libc6-dbg) is installed. Each run starts with an
// empty native index (docs/native-index.md): the first dump builds it, the next reads its
// names and lines from it and must show the same frames.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { buildId } from '../../src/native/debug-file.js';
import { indexFileName } from '../../src/native/index-store.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { ElfFile } from '../../src/proc/elf.js';
import { runCli } from '../helpers/cli.js';
import { hasGcc, sourceMarkerLine } from '../helpers/native-fixture.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';
import type { JsonFrame } from '../helpers/dump-json.js';

const SOURCE = join(PACKAGE_ROOT, 'test', 'fixtures', 'native', 'lines.c');
const dir = mkdtempSync(join(tmpdir(), 'spyglass-native-lines-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const markerLine = (marker: string): number => sourceMarkerLine(SOURCE, marker);

/** Whether libc's separate debug file (libc6-dbg) is installed for the libc the targets load. */
function libcDebugInstalled(): boolean {
  const libc = '/usr/lib/x86_64-linux-gnu/libc.so.6';
  if (!existsSync(libc)) return false;
  const elf = ElfFile.open(libc);
  try {
    const id = buildId(elf);
    return !!id && existsSync(`/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`);
  } finally {
    elf.close();
  }
}

describe('dump --native: file and line of C frames', { concurrency: 3, skip: !hasGcc() && 'gcc is not installed' }, () => {
  const lib = join(dir, 'liblines.so');
  before(() => execFileSync('gcc', ['-g', '-O1', '-shared', '-fPIC', '-o', lib, SOURCE]));
  const withLibcDebug = libcDebugInstalled();

  for (const py of discoverPythons()) {
    test(`${py.label}: hold_inner and hold_outer at their source lines`, async (t) => {
      const target = await startTarget(py, 'native_lines.py', [lib]);
      t.after(() => target.stop());
      const env = { XDG_CACHE_HOME: mkdtempSync(join(dir, 'cache-')) };
      const mainThread = async (): Promise<JsonFrame[]> => {
        const r = await runCli(['dump', String(target.pid), '--native', '--json'], { env });
        assert.equal(r.code, 0, r.stderr);
        const doc = JSON.parse(r.stdout) as { threads: Array<{ tid: number; merged: boolean; mergeError?: string; frames: JsonFrame[] }> };
        const main = doc.threads.find((x) => x.tid === target.pid)!;
        assert.equal(main.merged, true, main.mergeError);
        return main.frames;
      };
      // READY comes just before the call: look again until the thread is inside it
      let frames: JsonFrame[] = [];
      for (let i = 0; i < 50 && !frames.some((f) => f.name === 'hold_inner'); i++) {
        if (i) await new Promise((r) => setTimeout(r, 100));
        frames = await mainThread();
      }
      const names = frames.map((f) => f.name);
      const inner = names.indexOf('hold_inner');
      assert.ok(inner > 0, names.join(' | '));
      assert.deepEqual(names.slice(inner, inner + 2), ['hold_inner', 'hold_outer']);
      assert.deepEqual(
        frames.slice(inner, inner + 2).map((f) => [f.module, f.filename, f.line]),
        [
          ['liblines.so', SOURCE, markerLine('inner')],
          ['liblines.so', SOURCE, markerLine('outer')],
        ],
      );
      // the Python caller is where it called into C
      assert.ok(names.indexOf('wait_in_c') > inner + 1, names.join(' | '));
      const pause = frames[0];
      assert.equal(pause.module, 'libc.so.6');
      await t.test(
        "libc's frame has its line from the separate debug file",
        { skip: !withLibcDebug && 'libc6-dbg is not installed' },
        () => {
          assert.match(`${pause.filename}:${pause.line}`, /\/pause\.c:\d+$/, JSON.stringify(pause));
        },
      );

      // the index the dumps stored holds liblines.so (keyed by its build-id); a dump that
      // reads its names and lines from there shows the parked thread exactly as before
      const elf = ElfFile.open(lib);
      const id = buildId(elf);
      elf.close();
      assert.ok(existsSync(join(env.XDG_CACHE_HOME, 'spyglass', 'native', indexFileName(`b-${id}`))));
      assert.deepEqual(await mainThread(), frames);

      // text: the line inside the frame's parentheses, before the module
      const text = await runCli(['dump', String(target.pid), '--native'], { env });
      assert.equal(text.code, 0, text.stderr);
      assert.ok(text.stdout.includes(`    [native] hold_inner (${SOURCE}:${markerLine('inner')}, liblines.so)\n`), text.stdout);
    });
  }
});
