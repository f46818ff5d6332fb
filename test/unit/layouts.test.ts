// The layout data: generated tables load into the walk's shape, _Py_DebugOffsets parses
// for 3.13 and 3.14 (a fixture built from the documented 3.14 layout), the facts added to
// the 3.13 debug offsets agree with the 3.13 headers, and the generator's --check passes
// where gcc and the headers are installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { NotPythonError } from '../../src/errors.js';
import { layoutFor } from '../../src/reader/layouts/index.js';
import { debugOffsetsSize, layoutFromDebugOffsets, parseDebugOffsets } from '../../src/reader/layouts/debug-offsets.js';
import { tableLayout, type LayoutTable } from '../../src/reader/layouts/tables.js';
import { versionFromHex } from '../../src/reader/locate.js';

const LAYOUTS = join(PACKAGE_ROOT, 'src', 'reader', 'layouts');

test('tables load for 3.8-3.12 with the fields each version walks with', () => {
  for (const minor of [8, 9, 10]) {
    const L = tableLayout(minor)!;
    assert.ok(L.frameObject && L.tstate.frame !== undefined && L.runtime.tstateCurrent !== undefined, `3.${minor}`);
    assert.equal(L.iframe, undefined);
  }
  for (const minor of [11, 12]) {
    const L = tableLayout(minor)!;
    assert.ok(L.iframe && L.cframe && L.tstate.nativeThreadId !== undefined, `3.${minor}`);
    assert.equal(L.code.lineTableFormat, 'locations');
  }
  assert.equal(tableLayout(11)!.iframe!.skipOwnerFrom, undefined); // 3.11 has no C-stack shim frames
  assert.equal(tableLayout(12)!.iframe!.skipOwnerFrom, 3);
  assert.ok(tableLayout(12)!.gil && tableLayout(12)!.interp.cevalGil !== undefined);
  assert.equal(tableLayout(13), undefined, '3.13 is read from _Py_DebugOffsets');
  // values verified by hand against CPython's headers (docs/cpython-layouts.md §4)
  assert.equal(tableLayout(8)!.runtime.tstateCurrent, 1368);
  assert.equal(tableLayout(11)!.code.codeAdaptive, 184);
  assert.equal(tableLayout(12)!.interp.threadsHead, 72);
});

/** A _Py_DebugOffsets image: cookie, version, free_threaded, then the values in field order. */
function debugImage(version: number, values: number[], freeThreaded = 0): Buffer {
  const buf = Buffer.alloc(24 + 8 * values.length);
  buf.write('xdebugpy', 0, 'latin1');
  buf.writeBigUInt64LE(BigInt(version), 8);
  buf.writeBigUInt64LE(BigInt(freeThreaded), 16);
  values.forEach((v, i) => buf.writeBigUInt64LE(BigInt(v), 24 + 8 * i));
  return buf;
}

// The 3.14.0 values of docs/cpython-layouts.md §3, in field order; fields the document
// leaves blank get distinct placeholders (9000 + position) so misplaced reads show.
const DOC_3_14: Array<number | undefined> = [
  undefined,
  784,
  808, // runtime_state: size, finalizing, interpreters_head
  undefined,
  7280,
  7272,
  7344,
  7360,
  undefined,
  7664,
  undefined,
  undefined,
  16,
  7752,
  undefined,
  7776,
  7768,
  undefined,
  undefined, // interpreter_state
  undefined,
  undefined,
  8,
  16,
  72,
  152,
  160,
  undefined,
  undefined, // thread_state
  88,
  8,
  0,
  56,
  80,
  74,
  64,
  undefined, // interpreter_frame
  undefined,
  112,
  120,
  128,
  136,
  68,
  52,
  96,
  104,
  208,
  undefined, // code_object
  16,
  8, // pyobject
  undefined,
  24,
  undefined,
  168, // type_object
  undefined,
  32,
  16, // tuple_object
  undefined,
  24,
  16, // list_object
  undefined,
  undefined,
  undefined,
  undefined, // set_object
  undefined,
  32,
  40, // dict_object
  undefined,
  16, // float_object
  undefined,
  16,
  24, // long_object
  undefined,
  16,
  32, // bytes_object
  undefined,
  32,
  16,
  40, // unicode_object
  undefined,
  undefined, // gc
  undefined,
  undefined,
  undefined,
  undefined, // gen_object
  undefined,
  undefined, // llist_node
  24,
  304,
  8052,
  0,
  4,
  512, // debugger_support
];

test('3.14 _Py_DebugOffsets (760 bytes) parses by the documented layout', () => {
  assert.equal(debugOffsetsSize(14), 760);
  assert.equal(DOC_3_14.length * 8 + 24, 760);
  const image = debugImage(
    0x030e00f0,
    DOC_3_14.map((v, i) => v ?? 9000 + i),
  );
  const L = layoutFor(versionFromHex(0x030e00f0), image);
  assert.equal(L.minor, 14);
  assert.equal(L.runtime.interpretersHead, 808);
  assert.deepEqual(L.interp, { next: 7272, id: 7280, threadsHead: 7344, modules: 7664, cevalGil: 16, threadsMain: 7360 });
  assert.deepEqual(L.gil, { lastHolder: 7768 - 7752, locked: 7776 - 7752 });
  assert.equal(L.tstate.currentFrame, 72);
  assert.equal(L.tstate.nativeThreadId, 160);
  assert.equal(L.tstate.threadId, 152);
  assert.deepEqual(
    { ...L.iframe },
    { size: 88, previous: 8, code: 0, instr: 56, localsplus: 80, owner: 74, skipOwnerFrom: 3, tagged: true },
  );
  assert.equal(L.code.filename, 112);
  assert.equal(L.code.qualname, 128);
  assert.equal(L.code.lineTable, 136);
  assert.equal(L.code.codeAdaptive, 208);
  assert.equal(L.tuple.item, 32, '3.14 added a hash cache before ob_item');
  assert.equal(L.bytes.data, 32);
  assert.equal(L.unicode.asciiSize, 40);
});

test('a free-threaded or unknown _Py_DebugOffsets is refused with the version named', () => {
  const ft = debugImage(
    0x030e00f0,
    DOC_3_14.map((v) => v ?? 0),
    1,
  );
  assert.throws(
    () => layoutFor(versionFromHex(0x030e00f0), ft),
    (e: unknown) => e instanceof NotPythonError && /3\.14\.0.*free-threaded/.test((e as Error).message),
  );
  const v315 = versionFromHex(0x030f00a1);
  assert.throws(
    () => layoutFor(v315, debugImage(0x030f00a1, new Array(100).fill(0))),
    (e: unknown) => e instanceof NotPythonError && (e as Error).message === 'Python 3.15.0a1 is not supported: no layout for 3.15',
  );
  assert.throws(() => layoutFor(versionFromHex(0x030705f0)), /Python 3\.7\.5 is not supported/);
  assert.throws(
    () => layoutFor(versionFromHex(0x030d00f0), Buffer.alloc(600)),
    /Python 3\.13\.0 is not supported: its _PyRuntime has no _Py_DebugOffsets/,
  );
});

test('the facts added to 3.13 debug offsets match the 3.13 headers (v3_13.json)', () => {
  const table = JSON.parse(readFileSync(join(LAYOUTS, 'v3_13.json'), 'utf8')) as LayoutTable;
  // a 3.13 image whose values are those of the generated table, as a live 3.13 would carry them
  const t = table;
  const values = [
    0,
    0,
    t.runtime.interpretersHead,
    0,
    t.interp.id,
    t.interp.next,
    t.interp.threadsHead,
    0,
    t.interp.modules,
    0,
    0,
    t.interp.cevalGil!,
    7752,
    0,
    7752 + t.gil!.locked,
    7752 + t.gil!.lastHolder,
    t.tstate.size,
    0,
    t.tstate.next,
    t.tstate.interp,
    t.tstate.currentFrame!,
    t.tstate.threadId,
    t.tstate.nativeThreadId!,
    0,
    0,
    t.iframe!.size,
    t.iframe!.previous,
    t.iframe!.code,
    t.iframe!.instr,
    t.iframe!.localsplus,
    t.iframe!.owner,
    t.code.size,
    t.code.filename,
    t.code.name,
    t.code.qualname!,
    t.code.lineTable,
    t.code.firstlineno,
    t.code.argcount,
    t.code.localsplusnames!,
    t.code.localspluskinds!,
    t.code.codeAdaptive!,
    16,
    t.object.type,
    0,
    t.type.name,
    0,
    t.type.flags,
    0,
    t.tuple.item,
    16,
    0,
    t.list.item,
    16,
    0,
    t.dict.keys,
    t.dict.values,
    0,
    t.float.value,
    0,
    t.long.tag!,
    t.long.digits,
    0,
    16,
    t.bytes.data,
    0,
    t.unicode.state,
    t.unicode.length,
    t.unicode.asciiSize,
    0,
    0,
  ];
  assert.equal(24 + 8 * values.length, 584);
  const fromDebug = layoutFromDebugOffsets(parseDebugOffsets(debugImage(0x030d00f0, values)));
  const { generatedFrom: _g, iframe, code, ...rest } = table;
  const expected = { ...rest, code: { ...code, lineTableFormat: 'locations' } };
  const got = { ...fromDebug } as Record<string, unknown>;
  for (const [section, fields] of Object.entries(expected)) {
    if (typeof fields !== 'object') continue;
    for (const [k, v] of Object.entries(fields as Record<string, unknown>)) {
      if (section === 'code' && (k === 'size' || k === 'nlocals')) continue;
      assert.equal((got[section] as Record<string, unknown>)?.[k], v, `${section}.${k}`);
    }
  }
  assert.equal(fromDebug.iframe!.skipOwnerFrom, iframe!.ownedByCStack);
});

test('gen-offsets --check: the committed tables are what the installed headers produce', (t) => {
  const haveGcc = spawnSync('gcc', ['--version']).status === 0;
  const havePython = ['3.8.18', '3.12.1'].some((v) => existsSync(`/root/.pyenv/versions/${v}/include`));
  if (!haveGcc || !havePython) {
    t.skip('needs gcc and CPython headers');
    return;
  }
  const out = execFileSync(process.execPath, [join(PACKAGE_ROOT, 'scripts', 'gen-offsets', 'gen.mjs'), '--check'], { encoding: 'utf8' });
  assert.match(out, /^ok {3}3\.8 /m);
  assert.match(out, /^ok {3}3\.12 /m);
});
