// The merge rule on synthetic stacks: evaluation-loop frames replaced by the Python runs
// their entry markers delimit, plumbing dropped (kept with --native-all), start-up frames
// below Python dropped, and a count mismatch reported with both stacks shown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderStackText, stackDumpJson } from '../../src/commands/render-stack.js';
import { mergeStacks, type MixedFrame } from '../../src/native/merge.js';
import type { MixedStackDump, NativeFrame } from '../../src/native/types.js';
import type { StackFrame } from '../../src/reader/types.js';

const LIB = 'libpython3.12.so.1.0';
let addr = 0x1000n;
const n = (name: string, module = LIB): NativeFrame => ({ kind: 'native', name, module, address: (addr += 16n) });
const p = (name: string): StackFrame => ({ name, filename: 'app.py', line: 1 });
const opts = { pythonModules: new Set([LIB, 'python3.12']) };
const label = (f: MixedFrame) => ('kind' in f && f.kind === 'native' ? `${f.name} (${f.module})` : f.name);

// native stack of: <module> -> main -> sorted(key=keyf) -> keyf -> leaf -> time.sleep
const NATIVE = [
  n('clock_nanosleep', 'libc.so.6'),
  n('time_sleep'),
  n('cfunction_vectorcall_O'),
  n('PyObject_Vectorcall'),
  n('_PyEval_EvalFrameDefault'), // leaf, keyf
  n('PyObject_CallOneArg'),
  n('list_sort_impl'),
  n('builtin_sorted'),
  n('_PyEval_EvalFrameDefault.cold'), // main, <module>
  n('PyEval_EvalCode'),
  n('run_mod'),
  n('Py_BytesMain'),
  n('main', 'python3.12'),
  n('__libc_start_call_main', 'libc.so.6'),
  n('_start', 'python3.12'),
];
const PYTHON = [p('leaf'), p('keyf'), p('main'), p('<module>')];
const ENTRIES = [false, true, false, true];

describe('merging native and Python frames', () => {
  it('replaces each evaluation-loop frame by the Python frames it ran and drops the plumbing', () => {
    const m = mergeStacks(PYTHON, ENTRIES, NATIVE, opts);
    assert.equal(m.merged, true);
    assert.deepEqual(m.frames.map(label), [
      'clock_nanosleep (libc.so.6)',
      `time_sleep (${LIB})`,
      'leaf',
      'keyf',
      `list_sort_impl (${LIB})`,
      `builtin_sorted (${LIB})`,
      'main',
      '<module>',
    ]);
    // the reader's own (shared, frozen) frame objects
    assert.equal(m.frames[2], PYTHON[0]);
  });

  it('keeps every native frame but the evaluation loop with --native-all', () => {
    const m = mergeStacks(PYTHON, ENTRIES, NATIVE, { ...opts, all: true });
    assert.equal(m.frames.length, NATIVE.length - 2 + PYTHON.length);
    assert.ok(m.frames.some((f) => f.name === 'PyObject_CallOneArg'));
  });

  it('keeps an extension module frame below the outermost Python frame, not libc start-up', () => {
    const m = mergeStacks(
      [p('run')],
      [true],
      [
        n('_PyEval_EvalFrameDefault'),
        n('PyObject_Call'),
        n('worker_main', 'libworker.so'),
        n('start_thread', 'libc.so.6'),
        n('clone3', 'libc.so.6'),
      ],
      opts,
    );
    assert.deepEqual(m.frames.map(label), ['run', 'worker_main (libworker.so)']);
  });

  it('does not merge when the counts disagree, and the dump then shows both stacks and why', () => {
    const m = mergeStacks(PYTHON, [false, false, false, true], NATIVE, opts);
    assert.equal(m.merged, false);
    assert.equal(m.reason, '2 evaluation-loop frames in the native stack, 1 Python entry frame');
    assert.equal(m.frames, NATIVE);

    const dump: MixedStackDump = {
      pid: 7,
      python: { version: '3.12.1', build: 'shared', executable: '/usr/bin/python3.12', library: LIB },
      interpreters: [0],
      notes: [],
      threads: [
        {
          interpreterId: 0,
          threadId: 1,
          tid: 7,
          holdsGil: false,
          activity: 'idle',
          frames: PYTHON,
          native: { frames: m.frames, merged: false, reason: m.reason },
        },
      ],
    };
    const text = renderStackText(dump);
    assert.match(text, /could not be merged: 2 evaluation-loop frames in the native stack, 1 Python entry frame/);
    assert.match(text, /Python stack:\n {8}leaf \(app\.py:1\)/);
    assert.match(text, /Native stack:\n {8}\[native\] clock_nanosleep \(libc\.so\.6\)/);
    const json = stackDumpJson(dump) as {
      threads: Array<{ merged: boolean; frames: unknown[]; nativeFrames: Array<{ kind: string; module: string; address: string }> }>;
    };
    assert.equal(json.threads[0].merged, false);
    assert.equal(json.threads[0].frames.length, PYTHON.length);
    assert.deepEqual(Object.keys(json.threads[0].nativeFrames[0]).sort(), ['address', 'kind', 'module', 'name']);
    assert.equal(json.threads[0].nativeFrames[0].kind, 'native');
  });
});
