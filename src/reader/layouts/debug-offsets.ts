// CPython 3.13+ describes its own layout in _Py_DebugOffsets, the first member of
// _PyRuntime: a cookie "xdebugpy", the PY_VERSION_HEX, a free-threading flag, then
// little-endian uint64 offsets and sizes (docs/cpython-layouts.md §3). The struct's field
// list changed between 3.13 and 3.14, so the parser picks the field list by the version
// it finds, and adds the few facts the table does not carry (same section).
import type { Layout } from './types.js';

export const DEBUG_COOKIE = 'xdebugpy';

// Field order of struct _Py_DebugOffsets, after cookie/version/free_threaded.
const FIELDS_3_13 = [
  'runtime_state.size',
  'runtime_state.finalizing',
  'runtime_state.interpreters_head',
  'interpreter_state.size',
  'interpreter_state.id',
  'interpreter_state.next',
  'interpreter_state.threads_head',
  'interpreter_state.gc',
  'interpreter_state.imports_modules',
  'interpreter_state.sysdict',
  'interpreter_state.builtins',
  'interpreter_state.ceval_gil',
  'interpreter_state.gil_runtime_state',
  'interpreter_state.gil_runtime_state_enabled',
  'interpreter_state.gil_runtime_state_locked',
  'interpreter_state.gil_runtime_state_holder',
  'thread_state.size',
  'thread_state.prev',
  'thread_state.next',
  'thread_state.interp',
  'thread_state.current_frame',
  'thread_state.thread_id',
  'thread_state.native_thread_id',
  'thread_state.datastack_chunk',
  'thread_state.status',
  'interpreter_frame.size',
  'interpreter_frame.previous',
  'interpreter_frame.executable',
  'interpreter_frame.instr_ptr',
  'interpreter_frame.localsplus',
  'interpreter_frame.owner',
  'code_object.size',
  'code_object.filename',
  'code_object.name',
  'code_object.qualname',
  'code_object.linetable',
  'code_object.firstlineno',
  'code_object.argcount',
  'code_object.localsplusnames',
  'code_object.localspluskinds',
  'code_object.co_code_adaptive',
  'pyobject.size',
  'pyobject.ob_type',
  'type_object.size',
  'type_object.tp_name',
  'type_object.tp_repr',
  'type_object.tp_flags',
  'tuple_object.size',
  'tuple_object.ob_item',
  'tuple_object.ob_size',
  'list_object.size',
  'list_object.ob_item',
  'list_object.ob_size',
  'dict_object.size',
  'dict_object.ma_keys',
  'dict_object.ma_values',
  'float_object.size',
  'float_object.ob_fval',
  'long_object.size',
  'long_object.lv_tag',
  'long_object.ob_digit',
  'bytes_object.size',
  'bytes_object.ob_size',
  'bytes_object.ob_sval',
  'unicode_object.size',
  'unicode_object.state',
  'unicode_object.length',
  'unicode_object.asciiobject_size',
  'gc.size',
  'gc.collecting',
] as const;

// 3.14 inserts fields in several sections (docs/cpython-layouts.md §3).
const FIELDS_3_14 = [
  'runtime_state.size',
  'runtime_state.finalizing',
  'runtime_state.interpreters_head',
  'interpreter_state.size',
  'interpreter_state.id',
  'interpreter_state.next',
  'interpreter_state.threads_head',
  'interpreter_state.threads_main',
  'interpreter_state.gc',
  'interpreter_state.imports_modules',
  'interpreter_state.sysdict',
  'interpreter_state.builtins',
  'interpreter_state.ceval_gil',
  'interpreter_state.gil_runtime_state',
  'interpreter_state.gil_runtime_state_enabled',
  'interpreter_state.gil_runtime_state_locked',
  'interpreter_state.gil_runtime_state_holder',
  'interpreter_state.code_object_generation',
  'interpreter_state.tlbc_generation',
  'thread_state.size',
  'thread_state.prev',
  'thread_state.next',
  'thread_state.interp',
  'thread_state.current_frame',
  'thread_state.thread_id',
  'thread_state.native_thread_id',
  'thread_state.datastack_chunk',
  'thread_state.status',
  'interpreter_frame.size',
  'interpreter_frame.previous',
  'interpreter_frame.executable',
  'interpreter_frame.instr_ptr',
  'interpreter_frame.localsplus',
  'interpreter_frame.owner',
  'interpreter_frame.stackpointer',
  'interpreter_frame.tlbc_index',
  'code_object.size',
  'code_object.filename',
  'code_object.name',
  'code_object.qualname',
  'code_object.linetable',
  'code_object.firstlineno',
  'code_object.argcount',
  'code_object.localsplusnames',
  'code_object.localspluskinds',
  'code_object.co_code_adaptive',
  'code_object.co_tlbc',
  'pyobject.size',
  'pyobject.ob_type',
  'type_object.size',
  'type_object.tp_name',
  'type_object.tp_repr',
  'type_object.tp_flags',
  'tuple_object.size',
  'tuple_object.ob_item',
  'tuple_object.ob_size',
  'list_object.size',
  'list_object.ob_item',
  'list_object.ob_size',
  'set_object.size',
  'set_object.used',
  'set_object.table',
  'set_object.mask',
  'dict_object.size',
  'dict_object.ma_keys',
  'dict_object.ma_values',
  'float_object.size',
  'float_object.ob_fval',
  'long_object.size',
  'long_object.lv_tag',
  'long_object.ob_digit',
  'bytes_object.size',
  'bytes_object.ob_size',
  'bytes_object.ob_sval',
  'unicode_object.size',
  'unicode_object.state',
  'unicode_object.length',
  'unicode_object.asciiobject_size',
  'gc.size',
  'gc.collecting',
  'gen_object.size',
  'gen_object.gi_name',
  'gen_object.gi_iframe',
  'gen_object.gi_frame_state',
  'llist_node.next',
  'llist_node.prev',
  'debugger_support.eval_breaker',
  'debugger_support.remote_debugger_support',
  'debugger_support.remote_debugging_enabled',
  'debugger_support.debugger_pending_call',
  'debugger_support.debugger_script_path',
  'debugger_support.debugger_script_path_size',
] as const;

const HEADER_SIZE = 24;
const FIELD_LISTS: Record<number, readonly string[]> = { 13: FIELDS_3_13, 14: FIELDS_3_14 };
/** Bytes to read at _PyRuntime to hold the largest known struct (760 on 3.14). */
export const DEBUG_OFFSETS_MAX_SIZE = HEADER_SIZE + 8 * Math.max(...Object.values(FIELD_LISTS).map((f) => f.length));

/** Every field name _Py_DebugOffsets has in some version ("thread_state.native_thread_id"). */
export function debugOffsetFieldNames(): string[] {
  return [...new Set(Object.values(FIELD_LISTS).flat())];
}

export function debugOffsetsSize(minor: number): number | undefined {
  const fields = FIELD_LISTS[minor];
  return fields && HEADER_SIZE + 8 * fields.length;
}

/**
 * What _Py_DebugOffsets does not say, per minor version (docs/cpython-layouts.md §3). 3.13's values are the
 * ones gen-offsets produces from the 3.13 headers (a unit test keeps them equal to
 * v3_13.json). 3.14's follow the 3.14 sources as documented; no 3.14 interpreter was
 * available to verify them.
 */
type Extras = {
  code: Pick<Layout['code'], 'kwonlyargcount' | 'flags' | 'flagVarargs' | 'flagVarkeywords' | 'kindLocal' | 'kindCell'>;
  skipOwnerFrom: number;
  tagged: boolean;
  objectSize: number;
  type: Pick<Layout['type'], 'basicsize' | 'dictoffset' | 'cachedKeys' | 'flagManagedDict' | 'flagInlineValues'>;
  managedDict: NonNullable<Layout['managedDict']>;
  dictUsed: number;
  dictKeys: Layout['dictKeys'];
  dictValues: NonNullable<Layout['dictValues']>;
  long: Pick<Layout['long'], 'shift' | 'nonSizeBits'>;
  unicode: Pick<Layout['unicode'], 'compactSize' | 'legacyData' | 'kindMask' | 'compactMask' | 'asciiMask'>;
  cellRef: number;
};

const EXTRAS_3_13: Extras = {
  code: { kwonlyargcount: 60, flags: 48, flagVarargs: 4, flagVarkeywords: 8, kindLocal: 0x20, kindCell: 0x40 },
  // FRAME_OWNED_BY_CSTACK = 3 is the highest owner value in 3.13
  skipOwnerFrom: 3,
  tagged: false,
  objectSize: 16,
  type: { basicsize: 32, dictoffset: 288, cachedKeys: 880, flagManagedDict: 1 << 4, flagInlineValues: 1 << 2 },
  managedDict: { dict: -24, inlineValues: 16 },
  dictUsed: 16,
  dictKeys: {
    log2Size: 8,
    log2IndexBytes: 9,
    kind: 10,
    nentries: 24,
    indices: 32,
    entrySize: 24,
    entryHash: 0,
    entryKey: 8,
    entryValue: 16,
    unicodeEntrySize: 16,
    unicodeEntryKey: 0,
    unicodeEntryValue: 8,
  },
  dictValues: { values: 8 },
  long: { shift: 30, nonSizeBits: 3 },
  unicode: { compactSize: 56, legacyData: 56, kindMask: 0x1c, compactMask: 0x20, asciiMask: 0x40 },
  cellRef: 16,
};

const EXTRAS: Record<number, Extras> = {
  13: EXTRAS_3_13,
  14: {
    ...EXTRAS_3_13,
    // 3.14: FRAME_OWNED_BY_INTERPRETER = 3 and FRAME_OWNED_BY_CSTACK = 4; neither is a Python frame
    skipOwnerFrom: 3,
    // f_executable and localsplus are _PyStackRef: the low bits are tags
    tagged: true,
  },
};

export interface DebugOffsets {
  version: number;
  freeThreaded: boolean;
  fields: Map<string, number>;
}

/** The minor version in a _Py_DebugOffsets header, or undefined when the cookie is absent. */
export function debugOffsetsVersion(buf: Buffer): number | undefined {
  if (buf.length < 16 || buf.toString('latin1', 0, 8) !== DEBUG_COOKIE) return undefined;
  return Number(buf.readBigUInt64LE(8) & 0xffffffffn);
}

/** Parses the struct; throws when its version has no known field list. */
export function parseDebugOffsets(buf: Buffer): DebugOffsets {
  const version = debugOffsetsVersion(buf);
  if (version === undefined) throw new Error('no _Py_DebugOffsets cookie');
  const minor = (version >>> 16) & 0xff;
  const names = FIELD_LISTS[minor];
  if (!names) throw new Error(`no _Py_DebugOffsets layout known for 3.${minor}`);
  const size = HEADER_SIZE + 8 * names.length;
  if (buf.length < size) throw new Error(`_Py_DebugOffsets for 3.${minor} needs ${size} bytes, got ${buf.length}`);
  const fields = new Map<string, number>();
  names.forEach((name, i) => fields.set(name, Number(buf.readBigUInt64LE(HEADER_SIZE + 8 * i))));
  return { version, freeThreaded: buf.readBigUInt64LE(16) !== 0n, fields };
}

/** Builds the walk's Layout from parsed debug offsets plus the per-version extras. */
export function layoutFromDebugOffsets(d: DebugOffsets): Layout {
  const minor = (d.version >>> 16) & 0xff;
  const x = EXTRAS[minor];
  if (!x) throw new Error(`no _Py_DebugOffsets extras known for 3.${minor}`);
  const f = (name: string): number => {
    const v = d.fields.get(name);
    if (v === undefined) throw new Error(`_Py_DebugOffsets lacks ${name}`);
    return v;
  };
  const gilBase = f('interpreter_state.gil_runtime_state');
  return {
    minor,
    source: `_Py_DebugOffsets (version 0x${d.version.toString(16)})`,
    runtime: { interpretersHead: f('runtime_state.interpreters_head') },
    interp: {
      next: f('interpreter_state.next'),
      id: f('interpreter_state.id'),
      threadsHead: f('interpreter_state.threads_head'),
      modules: f('interpreter_state.imports_modules'),
      cevalGil: f('interpreter_state.ceval_gil'),
      threadsMain: d.fields.get('interpreter_state.threads_main'),
    },
    // the interpreter's own GIL struct is at gil_runtime_state; ceval.gil points at the one in use
    gil: {
      lastHolder: f('interpreter_state.gil_runtime_state_holder') - gilBase,
      locked: f('interpreter_state.gil_runtime_state_locked') - gilBase,
    },
    tstate: {
      size: f('thread_state.size'),
      next: f('thread_state.next'),
      interp: f('thread_state.interp'),
      threadId: f('thread_state.thread_id'),
      nativeThreadId: f('thread_state.native_thread_id'),
      currentFrame: f('thread_state.current_frame'),
    },
    iframe: {
      size: f('interpreter_frame.size'),
      previous: f('interpreter_frame.previous'),
      code: f('interpreter_frame.executable'),
      instr: f('interpreter_frame.instr_ptr'),
      localsplus: f('interpreter_frame.localsplus'),
      owner: f('interpreter_frame.owner'),
      skipOwnerFrom: x.skipOwnerFrom,
      tagged: x.tagged,
    },
    code: {
      ...x.code,
      size: f('code_object.size'),
      argcount: f('code_object.argcount'),
      firstlineno: f('code_object.firstlineno'),
      filename: f('code_object.filename'),
      name: f('code_object.name'),
      qualname: f('code_object.qualname'),
      lineTable: f('code_object.linetable'),
      lineTableFormat: 'locations',
      localsplusnames: f('code_object.localsplusnames'),
      localspluskinds: f('code_object.localspluskinds'),
      codeAdaptive: f('code_object.co_code_adaptive'),
    },
    object: { type: f('pyobject.ob_type'), size: x.objectSize },
    type: { ...x.type, name: f('type_object.tp_name'), flags: f('type_object.tp_flags') },
    managedDict: x.managedDict,
    tuple: { item: f('tuple_object.ob_item') },
    list: { item: f('list_object.ob_item') },
    dict: { used: x.dictUsed, keys: f('dict_object.ma_keys'), values: f('dict_object.ma_values') },
    dictKeys: x.dictKeys,
    dictValues: x.dictValues,
    float: { value: f('float_object.ob_fval') },
    long: { ...x.long, digits: f('long_object.ob_digit'), tag: f('long_object.lv_tag') },
    bytes: { data: f('bytes_object.ob_sval') },
    unicode: {
      ...x.unicode,
      length: f('unicode_object.length'),
      state: f('unicode_object.state'),
      asciiSize: f('unicode_object.asciiobject_size'),
    },
    cell: { ref: x.cellRef },
  };
}
