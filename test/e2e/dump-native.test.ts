// `dump --native` on every interpreter: a known mixed stack (test/targets/native_qsort.py:
// Python -> libc qsort through ctypes -> a Python comparator -> time.sleep) must come out
// merged in exactly this order, with names and modules; and in JSON with kind/module/address.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';
import type { JsonFrame } from '../helpers/dump-json.js';

/** What each frame is, coarsely: a Python function, or the kind of module a native one is in. */
function groupOf(f: JsonFrame, pythonModule: RegExp): string {
  if (f.kind === 'python') return `py:${f.name}`;
  const m = f.module!;
  if (m === 'libc.so.6') return 'libc';
  if (pythonModule.test(m)) return 'python';
  if (m.startsWith('_ctypes')) return '_ctypes';
  if (m.startsWith('libffi')) return 'libffi';
  return `other:${m}`;
}

// three at a time: seven native dumps at once (each loads every module's tables) ran past
// the CLI's timeout at load 28
describe('dump --native merges native and Python frames', { concurrency: 3 }, () => {
  for (const py of discoverPythons()) {
    test(`${py.label}: Python -> C -> Python -> C, in order`, async (t) => {
      const target = await startTarget(py, 'native_qsort.py');
      t.after(() => target.stop());
      const r = await runCli(['dump', String(target.pid), '--native', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { threads: Array<{ tid: number; merged: boolean; mergeError?: string; frames: JsonFrame[] }> };
      const main = doc.threads.find((x) => x.tid === target.pid)!;
      assert.equal(main.merged, true, main.mergeError);
      const pythonModule = py.build === 'shared' ? /^libpython3\.\d+\.so/ : /^python3\.\d+$/;
      // consecutive frames of one kind collapse into one step of the sequence
      const seq = main.frames.map((f) => groupOf(f, pythonModule)).filter((g, i, all) => i === 0 || g !== all[i - 1]);
      assert.deepEqual(seq, [
        'libc',
        'python',
        'py:park',
        'py:compare',
        '_ctypes',
        'libffi',
        'libc',
        'libffi',
        '_ctypes',
        'py:sort_numbers',
        'py:<module>',
      ]);

      const names = main.frames.map((f) => f.name);
      // time.sleep: the libc sleep innermost, under time_sleep, under the Python caller
      assert.match(names[0], /^(clock_nanosleep|select)$/);
      if (py.build === 'shared') assert.equal(names[names.indexOf('park') - 1], 'time_sleep');
      // a static interpreter stripped of its static functions (Debian's): time_sleep is an address in it
      else assert.match(names[names.indexOf('park') - 1], /^0x[0-9a-f]+$/);
      // qsort's own frames between the comparator's callback and ctypes' call
      const compare = names.indexOf('compare');
      const caller = names.indexOf('sort_numbers');
      assert.ok(
        names.slice(compare, caller).some((n) => /qsort/.test(n)),
        names.join(' | '),
      );
      if (py.build === 'shared') {
        assert.ok(names.slice(compare, caller).includes('closure_fcn'));
        assert.ok(names.slice(compare, caller).includes('_ctypes_callproc'));
      }
      // every native frame carries its module and address; evaluation-loop frames are gone
      for (const f of main.frames.filter((x) => x.kind === 'native')) {
        assert.ok(f.module && /^0x[0-9a-f]+$/.test(f.address!), JSON.stringify(f));
        assert.doesNotMatch(f.name, /^_PyEval_EvalFrameDefault/);
      }

      // --native-all keeps the interpreter's call plumbing between the Python frames
      const all = await runCli(['dump', String(target.pid), '--native-all']);
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stdout, /^ {4}\[native\] \w*(Vectorcall|_PyObject_MakeTpCall|PyObject_Call)\w* \((\S+:\d+, )?(libpython|python3)/m);

      // text: native frames are marked apart from the Python ones
      const text = await runCli(['dump', String(target.pid), '--native']);
      assert.match(text.stdout, /^ {4}\[native\] (clock_nanosleep|select) \((\S+:\d+, )?libc\.so\.6\)$/m);
      assert.match(text.stdout, /^ {4}compare \(.*native_qsort\.py:\d+\)$/m);
    });
  }
});
