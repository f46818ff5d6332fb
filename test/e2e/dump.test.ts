// `spyglass dump` and the reader behind it, on every interpreter found: exact function
// names, files, line numbers, thread names, kernel TIDs, GIL holder and --locals values
// of a target whose code we know (test/targets/dump_known.py).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverPythons } from '../helpers/pythons.js';
import { markerLines, startTarget, TARGETS_DIR } from '../helpers/targets.js';
import { runCli } from '../helpers/cli.js';
import { openReader } from '../../src/reader/reader.js';
import type { StackDump, ThreadStack } from '../../src/reader/types.js';

const SCRIPT = join(TARGETS_DIR, 'dump_known.py');
/** line numbers of the "# LINE:tag" markers in the target */
const LINES = markerLines(SCRIPT);

const dir = mkdtempSync(join(tmpdir(), 'spyglass-dump-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function thread(dump: StackDump, name: string): ThreadStack {
  const t = dump.threads.find((x) => x.name === name);
  assert.ok(t, `thread ${name} in ${dump.threads.map((x) => x.name).join(', ')}`);
  return t;
}

describe('dump reads the known target on every interpreter', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    const minor = Number(py.minor.split('.')[1]);
    const q = (cls: string, fn: string) => (minor >= 11 ? `${cls}.${fn}` : fn);
    test(`${py.label}: threads, frames, lines, tids, locals`, async (t) => {
      const target = await startTarget(py, 'dump_known.py');
      t.after(() => target.stop());
      const reader = await openReader(target.pid);
      t.after(() => reader.close());
      const dump = reader.sample({ locals: true });

      assert.equal(dump.python.version, py.version);
      assert.equal(dump.python.build, py.build);
      assert.deepEqual(dump.interpreters, [0]);
      assert.deepEqual(new Set(dump.threads.map((x) => x.name)), new Set(['MainThread', 'sleeper-1', 'locals-demo']));

      const sleeper = thread(dump, 'sleeper-1');
      assert.deepEqual(
        sleeper.frames.slice(0, 3).map((f) => [f.name, f.filename, f.line]),
        [
          ['leaf_sleep', SCRIPT, LINES.leaf],
          ['middle', SCRIPT, LINES.middle],
          [q('Worker', 'run'), SCRIPT, LINES.run],
        ],
      );
      assert.equal(sleeper.frames.at(-1)!.name, q('Thread', '_bootstrap'));
      assert.match(sleeper.frames.at(-1)!.filename, /threading\.py$/);

      const main = thread(dump, 'MainThread');
      assert.deepEqual(
        main.frames.map((f) => [f.name, f.line]),
        [
          ['main', LINES.main],
          ['<module>', LINES.main + 3],
        ],
      );
      // kernel TIDs: the main thread's is the pid, the others are tasks of the process
      assert.equal(main.tid, target.pid);
      const tasks = readdirSync(`/proc/${target.pid}/task`).map(Number);
      for (const th of dump.threads) assert.ok(tasks.includes(th.tid!), `tid ${th.tid} of ${th.name} is a task`);
      assert.equal(new Set(dump.threads.map((x) => x.tid)).size, dump.threads.length);
      for (const th of dump.threads) {
        assert.equal(th.activity, 'idle', `${th.name} sleeps`);
        assert.equal(th.holdsGil, false, `${th.name} sleeps without the GIL`);
      }

      const top = thread(dump, 'locals-demo').frames[0];
      assert.equal(top.name, 'show_locals');
      assert.equal(top.line, LINES.locals);
      const vars = Object.fromEntries(top.locals!.map((v) => [v.name, [v.value, v.argument]]));
      assert.deepEqual(vars.an_int, ['42', true]);
      assert.deepEqual(vars.a_float, ['2.5', true]);
      assert.deepEqual(vars.rest, ["('extra',)", true]);
      assert.deepEqual(vars.a_str, ["'h\u00e9llo w\u00f6rld'", true]);
      assert.deepEqual(vars.options, ["{'opt': 1}", true]);
      assert.deepEqual(vars.big, ['-12345678901234567890', false]);
      assert.deepEqual(vars.data, [`b"\\x00ab'"`, false]);
      assert.deepEqual(vars.nothing, ['None', false]);
      assert.deepEqual(vars.flag, ['True', false]);
      assert.deepEqual(vars.items, ["[1, 'two', 3.0]", false]);
      assert.deepEqual(vars.single, ['(1,)', false]);
      assert.deepEqual(vars.mapping, ["{'k': 'v'}", false]);
      // three levels of containers; a value below them is still shown exactly
      assert.match(String(vars.nested[0]), /^\[\[1, \['deep', <list at 0x[0-9a-f]+>\]\], \{'k': \{'j': 3\}\}\]$/);
      assert.deepEqual(vars.many, ['[0, 1, 2, 3, 4, 5, ... (1000 items)]', false]);
      assert.match(String(vars.long_text[0]), /^'x{200}'\.\.\. \(1000 chars\)$/);
      assert.match(String(vars.obj[0]), /^<Worker at 0x[0-9a-f]+>$/);
      assert.deepEqual(vars.captured, ["'in a cell'", false]);
      assert.ok(!('bound_later' in vars), 'an empty cell is left out, like an unbound local');
      // arguments first, in their order, a captured one (a_float) among them
      assert.deepEqual(
        top.locals!.filter((v) => v.argument).map((v) => v.name),
        ['an_int', 'a_float', 'a_str', 'rest', 'options'],
      );

      // a second sample reuses the caches: few reads
      const before = reader.readCount;
      reader.sample();
      assert.ok(reader.readCount - before < 40, `second sample took ${reader.readCount - before} reads`);
    });

    test(`${py.label}: the CLI prints text, JSON, outermost-first and to a file`, async (t) => {
      const target = await startTarget(py, 'dump_known.py');
      t.after(() => target.stop());
      const pid = String(target.pid);

      const text = await runCli(['dump', pid]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^Process ${pid}: Python ${py.version.replace(/\./g, '\\.')} \\(${py.build} `));
      assert.match(text.stdout, new RegExp(`^Thread ${pid} "MainThread" \\(idle\\)$`, 'm'));
      assert.match(text.stdout, /^Thread \d+ "sleeper-1" \(idle\)\n {4}leaf_sleep \(.*dump_known\.py:(\d+)\)\n {4}middle \(/m);
      assert.ok(text.stdout.includes(`    leaf_sleep (${SCRIPT}:${LINES.leaf})`));
      assert.ok(!text.stdout.includes('Locals:'));

      const json = await runCli(['dump', pid, '--json', '--locals', '--outermost-first']);
      assert.equal(json.code, 0, json.stderr);
      const doc = JSON.parse(json.stdout);
      assert.equal(doc.pid, target.pid);
      assert.equal(doc.python.version, py.version);
      assert.equal(doc.frameOrder, 'outermost-first');
      const sleeper = doc.threads.find((x: { name: string }) => x.name === 'sleeper-1');
      assert.equal(sleeper.state, 'idle');
      assert.equal(sleeper.holdsGil, false);
      assert.equal(typeof sleeper.tid, 'number');
      assert.deepEqual(sleeper.frames.at(-1), {
        name: 'leaf_sleep',
        filename: SCRIPT,
        line: LINES.leaf,
        locals: [{ name: 'seconds', value: '1000', argument: true }],
      });
      assert.equal(sleeper.frames[0].name, q('Thread', '_bootstrap'));

      const file = join(dir, `${py.label}.txt`);
      const toFile = await runCli(['dump', pid, '--locals', '-f', file]);
      assert.equal(toFile.code, 0, toFile.stderr);
      assert.equal(toFile.stdout, '');
      const written = readFileSync(file, 'utf8');
      assert.match(written, /^ {8}Arguments:\n {12}an_int = 42\n/m);
      assert.match(written, /^ {8}Locals:\n {12}big = -12345678901234567890\n/m);
    });

    test(`${py.label}: a thread sorting a big list in C holds the GIL`, async (t) => {
      const target = await startTarget(py, 'dump_known.py', ['--sorter'], { readyTimeoutMs: 60000 });
      t.after(() => target.stop());
      const reader = await openReader(target.pid);
      t.after(() => reader.close());
      let held = 0;
      for (let i = 0; i < 5; i++) {
        const dump = reader.sample();
        const holders = dump.threads.filter((x) => x.holdsGil).map((x) => x.name);
        assert.ok(holders.length <= 1, `one GIL holder at most: ${holders}`);
        if (holders[0] === 'sorter') held++;
        else assert.deepEqual(holders, [], 'only the sorter ever holds the GIL');
        const sorter = thread(dump, 'sorter');
        assert.equal(sorter.frames[0].name, 'sort_forever');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(held >= 3, `the sorter held the GIL in ${held} of 5 samples`);
    });

    test(`${py.label}: a thread state being started is not shown as a second copy of its creator`, async (t) => {
      const target = await startTarget(py, 'dump_starting_thread.py');
      t.after(() => target.stop());
      const reader = await openReader(target.pid);
      t.after(() => reader.close());
      const dump = reader.sample();
      assert.equal(dump.threads.length, 1, JSON.stringify(dump.threads.map((x) => [x.tid, x.name, x.frames.length])));
      const main = dump.threads[0];
      assert.equal(main.name, 'MainThread');
      assert.equal(main.tid, target.pid, 'the kernel TID is still found (up to 3.10 through the pthread struct)');
      assert.deepEqual(
        main.frames.slice(-2).map((f) => f.name),
        ['wait_here', '<module>'],
      );
    });
  }
});
