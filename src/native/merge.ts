// Merges a thread's native frames with its Python frames: each evaluation-loop frame
// (_PyEval_EvalFrameDefault) is replaced by the Python frames that call of the loop ran,
// found through the reader's entry markers; interpreter plumbing (call helpers,
// vectorcall trampolines, start-up) is dropped unless all frames are asked for. When the
// counts disagree nothing is guessed: the caller shows both stacks
// (docs/native-unwinding.md §4).
import type { StackFrame } from '../reader/types.js';
import type { NativeFrame } from './types.js';

/** a Python frame (the reader's, without a kind) or a native one (kind 'native') */
export type MixedFrame = StackFrame | NativeFrame;

export interface MergeResult {
  /** innermost first; when merged is false, the native frames alone */
  frames: MixedFrame[];
  merged: boolean;
  /** why the stacks could not be merged */
  reason?: string;
}

export interface MergeOptions {
  /** file names of the module(s) holding the interpreter: libpython, or the executable of a static build */
  pythonModules: Set<string>;
  /** keep interpreter plumbing (--native-all) */
  all?: boolean;
}

/** The evaluation loop; `.cold` parts are the same call split by the compiler. */
const EVAL_RE = /^_PyEval_EvalFrameDefault(\.cold.*)?$/;

/**
 * Interpreter functions that only carry a call from one place to another. Everything
 * else in libpython (time_sleep, list_sort, take_gil, PyThread_acquire_lock...) is real
 * work and stays.
 */
const PLUMBING_RE = new RegExp(
  [
    'vectorcall', // cfunction_vectorcall_O, method_vectorcall, PyObject_Vectorcall, _PyFunction_Vectorcall...
    '^_?PyObject_(Call|FastCall|MakeTpCall)',
    '^_?PyEval_(Vector|EvalCode|EvalFrame|CallObject)',
    '^_?PyFunction_',
    '^_?PyCFunction_Call',
    '^(cfunction_call|slot_tp_call|call_function|do_call_core|function_code_fastcall|object_vacall|_TAIL_CALL_)',
    '^(PyEval_EvalCode|builtin_exec|exec_code_in_module|run_eval_code_obj|run_mod|pyrun_file)',
    '^(_?PyRun_|pymain_|Py_RunMain|Py_BytesMain|Py_Main|main$)',
    '^(thread_run|pythread_wrapper|t_bootstrap)',
  ].join('|'),
  'i',
);

/** libc's process and thread start: below every Python frame, of no interest */
const START_RE = /^(_start|__libc_start_main|__libc_start_call_main|start_thread|clone3?|__clone3?)$/;

export function isEvalFrame(f: NativeFrame): boolean {
  return EVAL_RE.test(f.name);
}

/** Splits Python frames (innermost first) into the runs each call of the evaluation loop made. */
function pythonGroups(python: StackFrame[], entries: boolean[]): StackFrame[][] {
  const groups: StackFrame[][] = [];
  let cur: StackFrame[] = [];
  python.forEach((f, i) => {
    cur.push(f);
    if (entries[i]) {
      groups.push(cur);
      cur = [];
    }
  });
  if (cur.length) groups.push(cur);
  return groups;
}

export function mergeStacks(python: StackFrame[], entries: boolean[], native: NativeFrame[], opts: MergeOptions): MergeResult {
  const groups = pythonGroups(python, entries);
  const evalCount = native.reduce((n, f) => n + (isEvalFrame(f) ? 1 : 0), 0);
  if (evalCount !== groups.length) {
    return {
      frames: native,
      merged: false,
      reason: `${evalCount} evaluation-loop frame${evalCount === 1 ? '' : 's'} in the native stack, ${groups.length} Python entry frame${groups.length === 1 ? '' : 's'}`,
    };
  }
  const out: MixedFrame[] = [];
  let g = 0;
  let outermostEval = -1;
  native.forEach((f, i) => {
    if (isEvalFrame(f)) outermostEval = i;
  });
  native.forEach((f, i) => {
    if (isEvalFrame(f)) {
      // the reader's frames are shared between samples (frozen): passed on as they are
      out.push(...groups[g++]);
      return;
    }
    if (opts.all || keepNative(f, i > outermostEval && outermostEval >= 0, opts)) out.push(f);
  });
  return { frames: out, merged: true };
}

/** Is f interpreter plumbing (by the rule above)? Applied to inlined frames too: plumbing is no more worth showing for having been inlined. */
export function isPlumbing(f: NativeFrame, pythonModules: Set<string>): boolean {
  return pythonModules.has(f.module) && PLUMBING_RE.test(f.name);
}

function keepNative(f: NativeFrame, belowPython: boolean, opts: MergeOptions): boolean {
  const inInterpreter = opts.pythonModules.has(f.module);
  if (belowPython) return !inInterpreter && !START_RE.test(f.name);
  // a static function of a stripped interpreter cannot be judged by its name: it stays
  return !isPlumbing(f, opts.pythonModules);
}
