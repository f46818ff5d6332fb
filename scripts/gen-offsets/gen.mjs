#!/usr/bin/env node
// Generates the per-version CPython layout tables that spyglass's out-of-process reader
// walks with (src/reader/layouts/v3_X.json), by compiling an offsetof/sizeof probe
// (probe.c.in) against each installed interpreter's own headers with gcc.
//
//   node scripts/gen-offsets/gen.mjs                 # regenerate every table it can
//   node scripts/gen-offsets/gen.mjs --check         # regenerate into a temp dir and diff
//   node scripts/gen-offsets/gen.mjs --python /path/to/python3.10 ...   # pick interpreters
//
// Needs gcc and each interpreter's headers (sysconfig's "include" path, with its
// internal/ directory). 3.8-3.12 tables are what the reader loads; v3_13.json is
// generated only to cross-check the reader's _Py_DebugOffsets parsing and the few facts
// it adds (src/reader/layouts/debug-offsets.ts). Interpreters are found the way the
// tests find them: pyenv versions, then python3.X on PATH.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
export const LAYOUTS_DIR = join(ROOT, 'src', 'reader', 'layouts');
export const MINORS = [8, 9, 10, 11, 12, 13];

// [json key, C expression, first minor, last minor]. The C expressions use CPython's own
// names; `mirror_*` types are declared in probe.c.in for structs that are private to a .c
// file in some versions.
const ALL = [8, 99];
const FIELDS = [
  ['runtime.interpretersHead', 'offsetof(_PyRuntimeState, interpreters.head)', ...ALL],
  ['runtime.tstateCurrent', 'offsetof(_PyRuntimeState, gilstate.tstate_current)', 8, 11],

  ['interp.next', 'offsetof(PyInterpreterState, next)', ...ALL],
  ['interp.id', 'offsetof(PyInterpreterState, id)', ...ALL],
  ['interp.threadsHead', 'offsetof(PyInterpreterState, tstate_head)', 8, 10],
  ['interp.threadsHead', 'offsetof(PyInterpreterState, threads.head)', 11, 99],
  ['interp.modules', 'offsetof(PyInterpreterState, modules)', 8, 11],
  ['interp.modules', 'offsetof(PyInterpreterState, imports.modules)', 12, 99],
  ['interp.cevalGil', 'offsetof(PyInterpreterState, ceval.gil)', 12, 99],
  ['gil.lastHolder', 'offsetof(struct _gil_runtime_state, last_holder)', 12, 99],
  ['gil.locked', 'offsetof(struct _gil_runtime_state, locked)', 12, 99],

  ['tstate.size', 'sizeof(PyThreadState)', ...ALL],
  ['tstate.next', 'offsetof(PyThreadState, next)', ...ALL],
  ['tstate.interp', 'offsetof(PyThreadState, interp)', ...ALL],
  ['tstate.threadId', 'offsetof(PyThreadState, thread_id)', ...ALL],
  ['tstate.nativeThreadId', 'offsetof(PyThreadState, native_thread_id)', 11, 99],
  ['tstate.frame', 'offsetof(PyThreadState, frame)', 8, 10],
  // non-zero while the thread runs its trace or profile function (the entered frame of a
  // `call` event is then not yet executing: docs/stack-consistency.md)
  ['tstate.tracing', 'offsetof(PyThreadState, tracing)', 8, 10],
  ['tstate.cframe', 'offsetof(PyThreadState, cframe)', 11, 12],
  ['tstate.currentFrame', 'offsetof(PyThreadState, current_frame)', 13, 99],
  ['cframe.currentFrame', 'offsetof(_PyCFrame, current_frame)', 11, 12],

  ['frameObject.size', 'sizeof(PyFrameObject)', 8, 10],
  ['frameObject.back', 'offsetof(PyFrameObject, f_back)', 8, 10],
  ['frameObject.code', 'offsetof(PyFrameObject, f_code)', 8, 10],
  ['frameObject.lasti', 'offsetof(PyFrameObject, f_lasti)', 8, 10],
  ['frameObject.localsplus', 'offsetof(PyFrameObject, f_localsplus)', 8, 10],
  // set while the frame's eval loop runs: a frame read after it returned (or was freed) is not
  ['frameObject.executing', 'offsetof(PyFrameObject, f_executing)', 8, 9],
  ['frameObject.state', 'offsetof(PyFrameObject, f_state)', 10, 10],
  ['frameObject.stateExecuting', 'FRAME_EXECUTING', 10, 10],

  ['iframe.size', 'sizeof(_PyInterpreterFrame)', 11, 99],
  ['iframe.previous', 'offsetof(_PyInterpreterFrame, previous)', 11, 99],
  ['iframe.code', 'offsetof(_PyInterpreterFrame, f_code)', 11, 12],
  ['iframe.code', 'offsetof(_PyInterpreterFrame, f_executable)', 13, 99],
  ['iframe.instr', 'offsetof(_PyInterpreterFrame, prev_instr)', 11, 12],
  ['iframe.instr', 'offsetof(_PyInterpreterFrame, instr_ptr)', 13, 99],
  ['iframe.localsplus', 'offsetof(_PyInterpreterFrame, localsplus)', 11, 99],
  ['iframe.owner', 'offsetof(_PyInterpreterFrame, owner)', 11, 99],
  // the first frame of each C call into the eval loop (3.11; 3.12+ put a CSTACK shim below it)
  ['iframe.isEntry', 'offsetof(_PyInterpreterFrame, is_entry)', 11, 11],
  ['iframe.ownedByCStack', 'FRAME_OWNED_BY_CSTACK', 12, 99],

  ['code.size', 'sizeof(PyCodeObject)', ...ALL],
  ['code.argcount', 'offsetof(PyCodeObject, co_argcount)', ...ALL],
  ['code.kwonlyargcount', 'offsetof(PyCodeObject, co_kwonlyargcount)', ...ALL],
  ['code.nlocals', 'offsetof(PyCodeObject, co_nlocals)', 8, 10],
  ['code.flags', 'offsetof(PyCodeObject, co_flags)', ...ALL],
  ['code.firstlineno', 'offsetof(PyCodeObject, co_firstlineno)', ...ALL],
  ['code.filename', 'offsetof(PyCodeObject, co_filename)', ...ALL],
  ['code.name', 'offsetof(PyCodeObject, co_name)', ...ALL],
  ['code.qualname', 'offsetof(PyCodeObject, co_qualname)', 11, 99],
  ['code.lineTable', 'offsetof(PyCodeObject, co_lnotab)', 8, 9],
  ['code.lineTable', 'offsetof(PyCodeObject, co_linetable)', 10, 99],
  ['code.varnames', 'offsetof(PyCodeObject, co_varnames)', 8, 10],
  ['code.cellvars', 'offsetof(PyCodeObject, co_cellvars)', 8, 10],
  ['code.bytecode', 'offsetof(PyCodeObject, co_code)', 8, 10],
  ['code.localsplusnames', 'offsetof(PyCodeObject, co_localsplusnames)', 11, 99],
  ['code.localspluskinds', 'offsetof(PyCodeObject, co_localspluskinds)', 11, 99],
  ['code.codeAdaptive', 'offsetof(PyCodeObject, co_code_adaptive)', 11, 99],
  ['code.flagVarargs', 'CO_VARARGS', ...ALL],
  ['code.flagVarkeywords', 'CO_VARKEYWORDS', ...ALL],
  ['code.kindLocal', 'CO_FAST_LOCAL', 11, 99],
  ['code.kindCell', 'CO_FAST_CELL', 11, 99],

  ['object.type', 'offsetof(PyObject, ob_type)', ...ALL],
  ['object.size', 'offsetof(PyVarObject, ob_size)', ...ALL],
  ['type.name', 'offsetof(PyTypeObject, tp_name)', ...ALL],
  ['type.basicsize', 'offsetof(PyTypeObject, tp_basicsize)', ...ALL],
  ['type.flags', 'offsetof(PyTypeObject, tp_flags)', ...ALL],
  ['type.dictoffset', 'offsetof(PyTypeObject, tp_dictoffset)', ...ALL],
  ['type.cachedKeys', 'offsetof(PyHeapTypeObject, ht_cached_keys)', 11, 99],
  ['type.flagManagedDict', 'Py_TPFLAGS_MANAGED_DICT', 11, 99],
  ['type.flagInlineValues', 'Py_TPFLAGS_INLINE_VALUES', 13, 99],
  // where an object with a managed dict keeps its dict / values, relative to the object
  ['managedDict.dict', 'MANAGED_DICT_OFFSET', 11, 11],
  ['managedDict.values', '(char *)_PyObject_ValuesPointer(probe_obj) - (char *)probe_obj', 11, 11],
  ['managedDict.dictOrValues', '(char *)_PyObject_DictOrValuesPointer(probe_obj) - (char *)probe_obj', 12, 12],
  ['managedDict.dict', '(char *)_PyObject_ManagedDictPointer(probe_obj) - (char *)probe_obj', 13, 99],
  ['managedDict.inlineValues', '(char *)_PyObject_InlineValues(probe_obj) - (char *)probe_obj', 13, 99],

  ['tuple.item', 'offsetof(PyTupleObject, ob_item)', ...ALL],
  ['list.item', 'offsetof(PyListObject, ob_item)', ...ALL],
  ['dict.used', 'offsetof(PyDictObject, ma_used)', ...ALL],
  ['dict.keys', 'offsetof(PyDictObject, ma_keys)', ...ALL],
  ['dict.values', 'offsetof(PyDictObject, ma_values)', ...ALL],
  ['dictKeys.size', 'offsetof(mirror_PyDictKeysObject, dk_size)', 8, 10],
  ['dictKeys.log2Size', 'offsetof(PyDictKeysObject, dk_log2_size)', 11, 99],
  ['dictKeys.log2IndexBytes', 'offsetof(PyDictKeysObject, dk_log2_index_bytes)', 11, 99],
  ['dictKeys.kind', 'offsetof(PyDictKeysObject, dk_kind)', 11, 99],
  ['dictKeys.nentries', 'offsetof(mirror_PyDictKeysObject, dk_nentries)', 8, 10],
  ['dictKeys.nentries', 'offsetof(PyDictKeysObject, dk_nentries)', 11, 99],
  ['dictKeys.indices', 'offsetof(mirror_PyDictKeysObject, dk_indices)', 8, 10],
  ['dictKeys.indices', 'offsetof(PyDictKeysObject, dk_indices)', 11, 99],
  ['dictKeys.entrySize', 'sizeof(mirror_PyDictKeyEntry)', 8, 10],
  ['dictKeys.entrySize', 'sizeof(PyDictKeyEntry)', 11, 99],
  ['dictKeys.entryHash', 'offsetof(mirror_PyDictKeyEntry, me_hash)', 8, 10],
  ['dictKeys.entryHash', 'offsetof(PyDictKeyEntry, me_hash)', 11, 99],
  ['dictKeys.entryKey', 'offsetof(mirror_PyDictKeyEntry, me_key)', 8, 10],
  ['dictKeys.entryKey', 'offsetof(PyDictKeyEntry, me_key)', 11, 99],
  ['dictKeys.entryValue', 'offsetof(mirror_PyDictKeyEntry, me_value)', 8, 10],
  ['dictKeys.entryValue', 'offsetof(PyDictKeyEntry, me_value)', 11, 99],
  ['dictKeys.unicodeEntrySize', 'sizeof(PyDictUnicodeEntry)', 11, 99],
  ['dictKeys.unicodeEntryKey', 'offsetof(PyDictUnicodeEntry, me_key)', 11, 99],
  ['dictKeys.unicodeEntryValue', 'offsetof(PyDictUnicodeEntry, me_value)', 11, 99],
  ['dictValues.values', 'offsetof(PyDictValues, values)', 11, 99],

  ['float.value', 'offsetof(PyFloatObject, ob_fval)', ...ALL],
  ['long.digits', 'offsetof(PyLongObject, ob_digit)', 8, 11],
  ['long.digits', 'offsetof(PyLongObject, long_value.ob_digit)', 12, 99],
  ['long.tag', 'offsetof(PyLongObject, long_value.lv_tag)', 12, 99],
  ['long.nonSizeBits', '_PyLong_NON_SIZE_BITS', 12, 99],
  ['long.shift', 'PyLong_SHIFT', ...ALL],
  ['bytes.data', 'offsetof(PyBytesObject, ob_sval)', ...ALL],
  ['unicode.length', 'offsetof(PyASCIIObject, length)', ...ALL],
  ['unicode.state', 'offsetof(PyASCIIObject, state)', ...ALL],
  ['unicode.asciiSize', 'sizeof(PyASCIIObject)', ...ALL],
  ['unicode.compactSize', 'sizeof(PyCompactUnicodeObject)', ...ALL],
  ['unicode.legacyData', 'offsetof(PyUnicodeObject, data)', ...ALL],
  // bit masks of the state bit-field, found by setting each field in a zeroed struct
  ['unicode.kindMask', 'STATE_MASK(kind)', ...ALL],
  ['unicode.compactMask', 'STATE_MASK(compact)', ...ALL],
  ['unicode.asciiMask', 'STATE_MASK(ascii)', ...ALL],
  ['cell.ref', 'offsetof(PyCellObject, ob_ref)', ...ALL],
];

function headersFor(minor) {
  const common = ['Python.h', 'frameobject.h', 'internal/pycore_pystate.h'];
  if (minor >= 9) common.push('internal/pycore_interp.h', 'internal/pycore_runtime.h');
  if (minor >= 11) common.push('internal/pycore_frame.h', 'internal/pycore_code.h', 'internal/pycore_dict.h', 'internal/pycore_object.h');
  if (minor >= 12) common.push('internal/pycore_gil.h', 'internal/pycore_long.h');
  return common;
}

export function probeSource(minor) {
  const template = readFileSync(join(HERE, 'probe.c.in'), 'utf8');
  const includes = headersFor(minor)
    .map((h) => `#include "${h}"`)
    .join('\n');
  const lines = FIELDS.filter(([, , lo, hi]) => minor >= lo && minor <= hi).map(([key, expr]) => `    P("${key}", (long long)(${expr}));`);
  return template
    .replace('@INCLUDES@', includes)
    .replace('@MIRRORS@', minor <= 10 ? '#define NEED_MIRRORS 1' : '')
    .replace('@FIELDS@', lines.join('\n'));
}

/** Nests {"a.b": 1} into {a: {b: 1}}. */
function nest(flat) {
  const out = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) node = node[p] ??= {};
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

function pythonInfo(python) {
  const out = execFileSync(
    python,
    ['-c', "import sys,sysconfig;print('%d.%d.%d' % sys.version_info[:3]);print(sysconfig.get_paths()['include'])"],
    { encoding: 'utf8' },
  )
    .trim()
    .split('\n');
  return { version: out[0], minor: Number(out[0].split('.')[1]), include: out[1] };
}

/** Compiles and runs the probe for one interpreter; returns the table as an object. */
export function generateTable(python, workDir) {
  const info = pythonInfo(python);
  const src = join(workDir, `probe_3_${info.minor}.c`);
  const exe = join(workDir, `probe_3_${info.minor}`);
  writeFileSync(src, probeSource(info.minor));
  execFileSync(
    'gcc',
    ['-std=gnu11', '-w', '-DNDEBUG', '-DPy_BUILD_CORE', '-I', info.include, '-I', join(info.include, 'internal'), '-o', exe, src],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const flat = JSON.parse(execFileSync(exe, { encoding: 'utf8' }));
  return { minor: info.minor, table: { generatedFrom: info.version, minor: info.minor, ...nest(flat) } };
}

/** One interpreter per minor version: pyenv's builds first, then python3.X on PATH. */
export function findPythons() {
  const found = new Map();
  const pyenv = '/root/.pyenv/versions';
  const candidates = [];
  if (existsSync(pyenv)) {
    for (const v of readdirSync(pyenv).sort()) {
      const m = /^3\.(\d+)\.\d+$/.exec(v);
      if (m) candidates.push([Number(m[1]), join(pyenv, v, 'bin', `python3.${m[1]}`)]);
    }
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const minor of MINORS) candidates.push([minor, join(dir, `python3.${minor}`)]);
  }
  for (const [minor, path] of candidates) {
    if (MINORS.includes(minor) && !found.has(minor) && existsSync(path) && !path.includes('/shims/')) found.set(minor, path);
  }
  return found;
}

export function tablePath(dir, minor) {
  return join(dir, `v3_${minor}.json`);
}

export function serialize(table) {
  return JSON.stringify(table, null, 2) + '\n';
}

/** Offsets must match; the patch release the table came from may differ. */
function comparable(table) {
  const { generatedFrom: _ignored, ...rest } = table;
  return JSON.stringify(rest, null, 2);
}

function main(argv) {
  const check = argv.includes('--check');
  const pythons = new Map();
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--python') {
      const p = argv[++i];
      pythons.set(pythonInfo(p).minor, p);
    }
  }
  if (pythons.size === 0) for (const [m, p] of findPythons()) pythons.set(m, p);
  if (pythons.size === 0) {
    console.error('gen-offsets: no CPython 3.8-3.13 interpreter found (looked in /root/.pyenv/versions and for python3.X on PATH)');
    return 1;
  }
  const work = mkdtempSync(join(tmpdir(), 'spyglass-offsets-'));
  let failures = 0;
  try {
    for (const [minor, python] of [...pythons].sort((a, b) => a[0] - b[0])) {
      const { table } = generateTable(python, work);
      const path = tablePath(LAYOUTS_DIR, minor);
      if (check) {
        const committed = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
        if (!committed || comparable(committed) !== comparable(table)) {
          failures++;
          console.error(`gen-offsets: ${path} differs from what ${python} (${table.generatedFrom}) produces:`);
          console.error(serialize(table));
        } else console.log(`ok   3.${minor} (${table.generatedFrom})`);
      } else {
        writeFileSync(path, serialize(table));
        console.log(`wrote ${path} from ${python} (${table.generatedFrom})`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return failures ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
