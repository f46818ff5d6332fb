// record --native carries a native frame's source file and line into every format, on
// every interpreter: a C library built with gcc -g (test/fixtures/native/lines.c), called
// through ctypes (test/targets/native_lines.py) and parked in pause(), is recorded with
// --idle; hold_inner and hold_outer must show the lines of their marker comments in the
// collapsed labels, speedscope's file/line, pprof's Function.filename and Line.line,
// chrometrace's args and the flame graph page's frames.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { before, describe, test } from 'node:test';
import { Profile } from 'pprof-format';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';
import { hasGcc, sourceMarkerLine } from '../helpers/native-fixture.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget, type Target } from '../helpers/targets.js';

const SOURCE = join(PACKAGE_ROOT, 'test', 'fixtures', 'native', 'lines.c');
const dir = mkdtempSync(join(tmpdir(), 'spyglass-record-native-lines-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const markerLine = (marker: string): number => sourceMarkerLine(SOURCE, marker);

/** The two C frames, innermost first, as [function, line]. */
const EXPECTED = () => [
  ['hold_inner', markerLine('inner')],
  ['hold_outer', markerLine('outer')],
];

/** Records the target (idle in pause(): --idle) for a second in one format; returns the file. */
async function record(target: Target, label: string, format: string): Promise<string> {
  const out = join(dir, `${label}.${format}`);
  const r = await runCli(['record', '-p', String(target.pid), '--native', '--idle', '-d', '1', '-r', '50', '-f', format, '-o', out], {
    timeoutMs: 60000,
  });
  assert.equal(r.code, 0, r.stderr);
  return out;
}

describe('record --native: source lines of C frames in every format', { concurrency: 1, skip: !hasGcc() && 'gcc is not installed' }, () => {
  const lib = join(dir, 'liblines.so');
  before(() => execFileSync('gcc', ['-g', '-O1', '-shared', '-fPIC', '-o', lib, SOURCE]));

  for (const py of discoverPythons()) {
    test(`${py.label}: hold_inner and hold_outer at their lines`, async (t) => {
      const target = await startTarget(py, 'native_lines.py', [lib]);
      t.after(() => target.stop());
      await target.waitFor(/READY/);
      const label = (name: string, line: number) => `${name} (lines.c:${line}, liblines.so)`;

      // collapsed: every stack through the library has both, the caller under its callee's caller
      const collapsed = readFileSync(await record(target, py.label, 'collapsed'), 'utf8')
        .trim()
        .split('\n');
      const [inner, outer] = EXPECTED().map(([name, line]) => label(name as string, line as number));
      const through = collapsed.filter((l) => l.includes('liblines.so'));
      assert.ok(through.length > 0, collapsed.join('\n'));
      for (const l of through) assert.ok(l.includes(`;${outer};${inner};`), l);

      // speedscope: the frame's name is its label, its file and line the source's
      const speedscope = JSON.parse(readFileSync(await record(target, py.label, 'speedscope'), 'utf8')) as {
        shared: { frames: Array<{ name: string; file?: string; line?: number }> };
      };
      for (const [name, line] of EXPECTED()) {
        const f = speedscope.shared.frames.find((x) => x.name === label(name as string, line as number));
        assert.deepEqual(f && [f.file, f.line], [SOURCE, line], JSON.stringify(speedscope.shared.frames));
      }

      // pprof: one function per C function (named with its module), its source in Function.filename, the line in Line.line
      const p = Profile.decode(gunzipSync(readFileSync(await record(target, py.label, 'pprof'))));
      const str = (i: number | bigint) => p.stringTable.strings[Number(i)];
      for (const [name, line] of EXPECTED()) {
        const fn = p.function.find((f) => str(f.name) === `${name} (liblines.so)`);
        assert.ok(fn, p.function.map((f) => str(f.name)).join(' | '));
        assert.equal(str(fn.filename), SOURCE);
        const lines = p.location.flatMap((l) => l.line.filter((x) => Number(x.functionId) === Number(fn.id)).map((x) => Number(x.line)));
        assert.deepEqual([...new Set(lines)], [line]);
      }

      // chrometrace: the frame's events carry the module, file and line
      const trace = JSON.parse(readFileSync(await record(target, py.label, 'chrometrace'), 'utf8')) as Array<{
        name: string;
        ph: string;
        args?: Record<string, unknown>;
      }>;
      for (const [name, line] of EXPECTED()) {
        const ev = trace.find((e) => e.ph === 'B' && e.name === label(name as string, line as number));
        assert.deepEqual(ev?.args, { module: 'liblines.so', filename: SOURCE, line });
      }

      // the flame graph page: per frame [name, location, kind]
      const html = readFileSync(await record(target, py.label, 'flamegraph'), 'utf8');
      for (const [name, line] of EXPECTED())
        assert.ok(html.includes(JSON.stringify([name, `lines.c:${line}, liblines.so`, 'native'])), name as string);
    });
  }
});
