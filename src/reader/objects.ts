// Reading Python objects out of the target: str, bytes, int, float, tuple, list, dict,
// instance attributes, and the short repr that `dump --locals` prints. Every size read
// from the target is capped, so a torn or hostile object cannot make us read megabytes.
import type { Layout } from './layouts/types.js';
import type { SnapshotMemory } from './snapshot.js';
import type { StrHasher } from './str-hash.js';

/** Longest string we decode (names, filenames, values); longer ones are cut. */
export const MAX_STRING_CHARS = 4096;
const MAX_BYTES = 65536;
/** Most items a container may claim before we treat it as torn. */
const MAX_CONTAINER = 1 << 24;

export interface StrValue {
  text: string;
  /** length of the whole string, in code points */
  length: number;
}

/** Addresses of the builtin types and singletons, from the interpreter's symbols. */
export interface KnownTypes {
  int?: bigint;
  bool?: bigint;
  float?: bigint;
  str?: bigint;
  bytes?: bigint;
  list?: bigint;
  tuple?: bigint;
  dict?: bigint;
  code?: bigint;
  cell?: bigint;
  module?: bigint;
  none?: bigint;
  true?: bigint;
  false?: bigint;
}

export const KNOWN_TYPE_SYMBOLS: Record<keyof KnownTypes, string> = {
  int: 'PyLong_Type',
  bool: 'PyBool_Type',
  float: 'PyFloat_Type',
  str: 'PyUnicode_Type',
  bytes: 'PyBytes_Type',
  list: 'PyList_Type',
  tuple: 'PyTuple_Type',
  dict: 'PyDict_Type',
  code: 'PyCode_Type',
  cell: 'PyCell_Type',
  module: 'PyModule_Type',
  none: '_Py_NoneStruct',
  true: '_Py_TrueStruct',
  false: '_Py_FalseStruct',
};

/** What a PyDictKeysObject's header says of its index and entries (ObjectReader.keysShape). */
interface KeysShape {
  slots: number;
  /** bytes per index slot */
  indexWidth: number;
  nentries: number;
  /** address of the first entry */
  entries: bigint;
  entrySize: number;
  keyOff: number;
  valueOff: number;
  /** undefined for entries without a stored hash (3.11+ str-only tables) */
  hashOff: number | undefined;
}

export class ObjectReader {
  private readonly typeNames = new Map<bigint, string>();

  /** false once a key the hashed lookup missed was found by comparing keys (see dictGet) */
  private hashTrusted = true;

  constructor(
    readonly m: SnapshotMemory,
    readonly L: Layout,
    readonly types: KnownTypes,
    /** the target's str hash; without it dicts are searched key by key */
    private readonly hasher?: StrHasher,
  ) {}

  typeOf(obj: bigint): bigint {
    return this.m.ptr(obj + BigInt(this.L.object.type));
  }

  /** tp_name of a type object (cached: type objects outlive samples). */
  typeName(type: bigint): string {
    let name = this.typeNames.get(type);
    if (name === undefined) {
      name = this.m.cstring(this.m.ptr(type + BigInt(this.L.type.name)), 128);
      this.typeNames.set(type, name);
    }
    return name;
  }

  private size(obj: bigint): number {
    const n = Number(this.m.i64(obj + BigInt(this.L.object.size)));
    if (n < 0 || n > MAX_CONTAINER) throw new RangeError(`implausible size ${n} at 0x${obj.toString(16)}`);
    return n;
  }

  /** A str object's text, at most maxChars code points. */
  str(obj: bigint, maxChars = MAX_STRING_CHARS): StrValue {
    const u = this.L.unicode;
    const head = this.m.read(obj, u.compactSize);
    const length = Number(head.readBigInt64LE(u.length));
    if (length < 0 || length > MAX_CONTAINER) throw new RangeError(`implausible str length ${length}`);
    const state = head.readUInt32LE(u.state);
    const kind = (state & u.kindMask) / (u.kindMask & -u.kindMask); // 1, 2 or 4 bytes per code point
    if (kind !== 1 && kind !== 2 && kind !== 4) throw new RangeError(`bad str kind ${kind}`);
    let data: bigint;
    if (state & u.compactMask) data = obj + BigInt(state & u.asciiMask ? u.asciiSize : u.compactSize);
    else data = this.m.ptr(obj + BigInt(u.legacyData)); // str subclasses and legacy strings
    const n = Math.min(length, maxChars);
    if (n === 0) return { text: '', length };
    const raw = this.m.read(data, n * kind);
    let text: string;
    if (kind === 1) text = raw.toString('latin1');
    else if (kind === 2) text = raw.toString('utf16le');
    else {
      const cps: number[] = [];
      for (let i = 0; i < n; i++) cps.push(raw.readUInt32LE(4 * i));
      text = String.fromCodePoint(...cps.map((c) => (c > 0x10ffff ? 0xfffd : c)));
    }
    return { text, length };
  }

  bytes(obj: bigint, max = MAX_BYTES): { data: Buffer; length: number } {
    const length = this.size(obj);
    const n = Math.min(length, max);
    return { data: n ? Buffer.from(this.m.read(obj + BigInt(this.L.bytes.data), n)) : Buffer.alloc(0), length };
  }

  /** An int's value, or undefined when it has more than maxDigits 30-bit digits. */
  long(obj: bigint, maxDigits = 8): bigint | undefined {
    const L = this.L.long;
    let ndigits: number;
    let negative: boolean;
    if (L.tag !== undefined) {
      // 3.12+: lv_tag = ndigits << nonSizeBits | sign (0 positive, 1 zero, 2 negative)
      const tag = this.m.ptr(obj + BigInt(L.tag));
      ndigits = Number(tag >> BigInt(L.nonSizeBits ?? 3));
      negative = (tag & 3n) === 2n;
    } else {
      const size = Number(this.m.i64(obj + BigInt(this.L.object.size)));
      ndigits = Math.abs(size);
      negative = size < 0;
    }
    if (ndigits > maxDigits) return undefined;
    if (ndigits === 0) return 0n;
    const raw = this.m.read(obj + BigInt(L.digits), 4 * ndigits);
    let v = 0n;
    for (let i = ndigits - 1; i >= 0; i--) v = (v << BigInt(L.shift)) | BigInt(raw.readUInt32LE(4 * i));
    return negative ? -v : v;
  }

  float(obj: bigint): number {
    return this.m.read(obj + BigInt(this.L.float.value), 8).readDoubleLE(0);
  }

  /** Item pointers of a tuple or list, at most max of them; `length` is the real count. */
  sequence(obj: bigint, isTuple: boolean, max: number): { items: bigint[]; length: number } {
    const length = this.size(obj);
    const n = Math.min(length, max);
    const base = isTuple ? obj + BigInt(this.L.tuple.item) : this.m.ptr(obj + BigInt(this.L.list.item));
    const items: bigint[] = [];
    if (n) {
      const raw = this.m.read(base, 8 * n);
      for (let i = 0; i < n; i++) items.push(raw.readBigUInt64LE(8 * i));
    }
    return { items, length };
  }

  /** Strings of a tuple of str (co_varnames, co_localsplusnames). */
  stringTuple(obj: bigint): string[] {
    return this.sequence(obj, true, 65536).items.map((p) => this.str(p, 256).text);
  }

  /** (key, value) pointers of a dict, at most max of them, and its size (ma_used). */
  dict(obj: bigint, max = Infinity): { items: Array<[bigint, bigint]>; length: number } {
    const D = this.L.dict;
    const length = Number(this.m.i64(obj + BigInt(D.used)));
    const { keys, valuesArray } = this.dictTables(obj);
    return { items: this.keyEntries(this.keysShape(keys), valuesArray, max), length };
  }

  /** A dict's keys object and, for a split table, its values array (0n otherwise). */
  private dictTables(obj: bigint): { keys: bigint; valuesArray: bigint } {
    const D = this.L.dict;
    const keys = this.m.ptr(obj + BigInt(D.keys));
    const values = this.m.ptr(obj + BigInt(D.values));
    return { keys, valuesArray: values ? values + BigInt(this.L.dictValues?.values ?? 0) : 0n };
  }

  /** The shape of a PyDictKeysObject: its slot count, index width and entry layout. */
  private keysShape(keys: bigint): KeysShape {
    const K = this.L.dictKeys;
    let slots: number;
    let indexWidth: number;
    let keyOff = K.entryKey;
    let valueOff = K.entryValue;
    let entrySize = K.entrySize;
    let hashOff: number | undefined = K.entryHash;
    const head = this.m.read(keys, K.indices);
    if (K.log2Size !== undefined) {
      slots = 2 ** head[K.log2Size];
      indexWidth = 2 ** head[K.log2IndexBytes!] / slots;
      if (head[K.kind!] !== 0) {
        // not DICT_KEYS_GENERAL: PyDictUnicodeEntry without the hash
        keyOff = K.unicodeEntryKey!;
        valueOff = K.unicodeEntryValue!;
        entrySize = K.unicodeEntrySize!;
        hashOff = undefined;
      }
    } else {
      slots = Number(head.readBigInt64LE(K.size!));
      indexWidth = slots <= 0xff ? 1 : slots <= 0xffff ? 2 : slots <= 0xffffffff ? 4 : 8;
    }
    const nentries = Number(head.readBigInt64LE(K.nentries));
    if (nentries < 0 || nentries > MAX_CONTAINER || ![1, 2, 4, 8].includes(indexWidth) || slots * indexWidth > 8 * MAX_CONTAINER)
      throw new RangeError('implausible dict keys');
    return { slots, indexWidth, nentries, entries: keys + BigInt(K.indices + slots * indexWidth), entrySize, keyOff, valueOff, hashOff };
  }

  /**
   * Entries of a PyDictKeysObject. With a split table (valuesArray != 0) the values live
   * in that array, indexed like the entries.
   */
  private keyEntries(shape: KeysShape, valuesArray: bigint, max: number): Array<[bigint, bigint]> {
    const { nentries, entries: at, entrySize, keyOff, valueOff } = shape;
    const out: Array<[bigint, bigint]> = [];
    if (!nentries) return out;
    const entries = this.m.read(at, nentries * entrySize);
    const vals = valuesArray ? this.m.read(valuesArray, 8 * nentries) : undefined;
    for (let i = 0; i < nentries && out.length < max; i++) {
      const key = entries.readBigUInt64LE(i * entrySize + keyOff);
      const value = vals ? vals.readBigUInt64LE(8 * i) : entries.readBigUInt64LE(i * entrySize + valueOff);
      if (key && value) out.push([key, value]);
    }
    return out;
  }

  /**
   * Looks a str key up in a dict: by its hash, probing the slots CPython's own lookup would
   * (a few reads whatever the dict's size: sys.modules of a large program holds thousands
   * of keys), else by comparing every key. A key the hashed lookup does not find is looked
   * for key by key as well; if it is found that way the hash is wrong for this target (a
   * build with another hash algorithm) and is not used again.
   */
  dictGet(obj: bigint, key: string): bigint | undefined {
    const { keys, valuesArray } = this.dictTables(obj);
    return this.keysGet(keys, valuesArray, key);
  }

  /** dictGet on a keys object and (split table) values array. */
  private keysGet(keys: bigint, valuesArray: bigint, key: string): bigint | undefined {
    const shape = this.keysShape(keys);
    const hash = this.hashTrusted ? this.hasher?.hash(key) : undefined;
    if (hash !== undefined) {
      const found = this.probe(keys, shape, valuesArray, key, hash);
      if (found !== undefined) return found;
    }
    const found = this.lookup(this.keyEntries(shape, valuesArray, Infinity), key);
    if (found !== undefined && hash !== undefined) this.hashTrusted = false;
    return found;
  }

  /** CPython's probe sequence over the index (docs/dict-lookup.md); undefined when absent. */
  private probe(keys: bigint, shape: KeysShape, valuesArray: bigint, key: string, hash: bigint): bigint | undefined {
    const { slots, indexWidth, entries, entrySize, keyOff, valueOff, hashOff } = shape;
    const indices = keys + BigInt(this.L.dictKeys.indices);
    const mask = BigInt(slots - 1);
    let perturb = BigInt.asUintN(64, hash);
    let i = BigInt.asUintN(64, hash) & mask;
    // a table being resized under us could hold no empty slot: bound the walk
    for (let step = 0; step <= slots; step++) {
      const raw = this.m.read(indices + i * BigInt(indexWidth), indexWidth);
      const ix =
        indexWidth === 1
          ? raw.readInt8(0)
          : indexWidth === 2
            ? raw.readInt16LE(0)
            : indexWidth === 4
              ? raw.readInt32LE(0)
              : Number(raw.readBigInt64LE(0));
      if (ix === -1) return undefined; // DKIX_EMPTY: not in the dict
      if (ix >= 0 && ix < shape.nentries) {
        const entry = this.m.read(entries + BigInt(ix * entrySize), entrySize);
        if (hashOff === undefined || entry.readBigInt64LE(hashOff) === hash) {
          const k = entry.readBigUInt64LE(keyOff);
          if (k && this.typeOf(k) === this.types.str && this.str(k, key.length + 1).text === key) {
            const value = valuesArray ? this.m.ptr(valuesArray + BigInt(8 * ix)) : entry.readBigUInt64LE(valueOff);
            return value || undefined;
          }
        }
      }
      perturb >>= 5n; // PERTURB_SHIFT
      i = (i * 5n + perturb + 1n) & mask;
    }
    return undefined;
  }

  private lookup(items: Array<[bigint, bigint]>, key: string): bigint | undefined {
    for (const [k, v] of items) {
      if (this.typeOf(k) !== this.types.str) continue;
      if (this.str(k, key.length + 1).text === key) return v;
    }
    return undefined;
  }

  /** An attribute from an instance's __dict__ (also modules), whatever way the version stores it. */
  attribute(obj: bigint, name: string): bigint | undefined {
    const type = this.typeOf(obj);
    const T = this.L.type;
    const flags = Number(this.m.i64(type + BigInt(T.flags)) & 0xffffffffn);
    const md = this.L.managedDict;
    if (md && T.flagManagedDict && flags & T.flagManagedDict) {
      let dict = 0n;
      let values = 0n;
      if (md.dictOrValues !== undefined) {
        // 3.12: one word, a dict pointer or (odd) the values pointer minus one
        const dorv = this.m.ptr(obj + BigInt(md.dictOrValues));
        if (dorv & 1n) values = dorv + 1n;
        else dict = dorv;
      } else {
        dict = this.m.ptr(obj + BigInt(md.dict!));
        if (!dict && md.values !== undefined) values = this.m.ptr(obj + BigInt(md.values));
        if (!dict && md.inlineValues !== undefined && T.flagInlineValues && flags & T.flagInlineValues) {
          const inline = obj + BigInt(md.inlineValues);
          if (this.m.u8(inline + 3n)) values = inline; // PyDictValues.valid
        }
      }
      if (dict) return this.dictGet(dict, name);
      if (!values) return undefined;
      const keys = this.m.ptr(type + BigInt(T.cachedKeys!));
      return this.keysGet(keys, values + BigInt(this.L.dictValues?.values ?? 0), name);
    }
    const offset = Number(this.m.i64(type + BigInt(T.dictoffset)));
    if (offset <= 0) return undefined;
    const dict = this.m.ptr(obj + BigInt(offset));
    return dict ? this.dictGet(dict, name) : undefined;
  }

  /**
   * A short repr for `--locals`: exact for None, bool, int, float, str, bytes; a few items
   * of list/tuple/dict, three levels deep (a deeper container is `<list at 0x...>`, a
   * deeper scalar still its value); `<type at 0x...>` for anything else.
   */
  repr(obj: bigint, depth = 0): string {
    const t = this.types;
    if (obj === 0n) return '<NULL>';
    if (obj === t.none) return 'None';
    if (obj === t.true) return 'True';
    if (obj === t.false) return 'False';
    const type = this.typeOf(obj);
    switch (type) {
      case t.int: {
        const v = this.long(obj);
        return v === undefined ? `<int at 0x${obj.toString(16)}: more than 70 digits>` : v.toString();
      }
      case t.float:
        return pyFloatRepr(this.float(obj));
      case t.str: {
        const s = this.str(obj, 200);
        return pyStrRepr(s.text) + (s.length > s.text.length ? `... (${s.length} chars)` : '');
      }
      case t.bytes: {
        const b = this.bytes(obj, 100);
        return pyBytesRepr(b.data) + (b.length > b.data.length ? `... (${b.length} bytes)` : '');
      }
      case t.list:
      case t.tuple: {
        if (depth > 2) return this.shortRepr(obj);
        const isTuple = type === t.tuple;
        const limit = depth ? 3 : 6;
        const { items, length } = this.sequence(obj, isTuple, limit);
        const parts = items.map((p) => this.repr(p, depth + 1));
        if (length > items.length) parts.push(`... (${length} items)`);
        const body = parts.join(', ') + (isTuple && length === 1 ? ',' : '');
        return isTuple ? `(${body})` : `[${body}]`;
      }
      case t.dict: {
        if (depth > 2) return this.shortRepr(obj);
        const limit = depth ? 3 : 6;
        const { items, length } = this.dict(obj, limit);
        const parts = items.map(([k, v]) => `${this.repr(k, 2)}: ${this.repr(v, depth + 1)}`);
        if (length > items.length) parts.push(`... (${length} items)`);
        return `{${parts.join(', ')}}`;
      }
      default:
        return this.numpyScalar(obj, type) ?? this.shortRepr(obj);
    }
  }

  /**
   * The value of a numpy scalar (np.int32(3) -> 3, np.float32(0.5) -> 0.5, np.bool(True)
   * -> True), as str() prints it and py-spy shows it; undefined for other types. numpy's
   * scalar objects hold their value right after the object header, where a float holds
   * its own (numpy's float64 is a subclass of float); the type name, with numpy 1's
   * "bool_" spelling, says how wide it is.
   */
  private numpyScalar(obj: bigint, type: bigint): string | undefined {
    const name = this.typeName(type);
    if (!name.startsWith('numpy.')) return undefined;
    const kind = NUMPY_SCALARS[name.slice(6)];
    if (!kind) return undefined;
    const [reader, size] = kind;
    return reader(this.m.read(obj + BigInt(this.L.float.value), size));
  }

  private shortRepr(obj: bigint): string {
    return `<${this.typeName(this.typeOf(obj))} at 0x${obj.toString(16)}>`;
  }
}

type ScalarReader = [read: (b: Buffer) => string, size: number];
const signed = (size: 1 | 2 | 4): ScalarReader => [(b) => b.readIntLE(0, size).toString(), size];
const BOOL: ScalarReader = [(b) => (b[0] ? 'True' : 'False'), 1];
/** numpy scalar types by name (without "numpy."): how to print their value. Not float16,
 * longdouble or complex (shown as `<numpy.float16 at 0x...>`, as py-spy does). */
const NUMPY_SCALARS: Record<string, ScalarReader | undefined> = {
  bool: BOOL,
  bool_: BOOL,
  int8: signed(1),
  int16: signed(2),
  int32: signed(4),
  int64: [(b) => b.readBigInt64LE(0).toString(), 8],
  uint8: [(b) => b.readUInt8(0).toString(), 1],
  uint16: [(b) => b.readUInt16LE(0).toString(), 2],
  uint32: [(b) => b.readUInt32LE(0).toString(), 4],
  uint64: [(b) => b.readBigUInt64LE(0).toString(), 8],
  longlong: [(b) => b.readBigInt64LE(0).toString(), 8],
  ulonglong: [(b) => b.readBigUInt64LE(0).toString(), 8],
  float32: [(b) => float32Repr(b.readFloatLE(0)), 4],
  float64: [(b) => pyFloatRepr(b.readDoubleLE(0)), 8],
};

/**
 * numpy's str() of a float32: its shortest digits that read back as the same float32,
 * positional between 1e-4 and 1e6 (exclusive) and in exponent notation outside, as numpy
 * prints them (np.float32(1e6) is 1e+06, where Python's float prints 1000000.0).
 */
export function float32Repr(x: number): string {
  if (!Number.isFinite(x) || x === 0) return pyFloatRepr(x);
  let shortest = x;
  for (let p = 1; p < 10; p++) {
    const v = Number(x.toPrecision(p));
    if (Math.fround(v) === x) {
      shortest = v;
      break;
    }
  }
  const abs = Math.abs(x);
  return floatDigits(shortest, abs > 1e-4 && abs < 1e6);
}

/** Python's repr() of a str. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if ((c >= 0x80 && c < 0xa0) || (c >= 0xd800 && c < 0xe000))
      out += c < 0x100 ? '\\x' + c.toString(16).padStart(2, '0') : '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + quote;
}

/** Python's repr() of a bytes object. */
export function pyBytesRepr(b: Buffer): string {
  const quote = b.includes(0x27) && !b.includes(0x22) ? '"' : "'";
  let out = 'b' + quote;
  for (const c of b) {
    if (c === quote.charCodeAt(0) || c === 0x5c) out += '\\' + String.fromCharCode(c);
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c >= 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += String.fromCharCode(c);
  }
  return out + quote;
}

/** Python's repr() of a float: shortest round-trip digits, Python's exponent rules. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const exp = Number(x.toExponential().split('e')[1]);
  return floatDigits(x, exp >= -4 && exp < 16);
}

/** x's shortest round-trip digits, positional ("0.001", "12.0") or as Python writes an exponent ("1e-05", "1.5e+16"). */
function floatDigits(x: number, positional: boolean): string {
  const [mant, expStr] = x.toExponential().split('e');
  const exp = Number(expStr);
  const sign = mant.startsWith('-') ? '-' : '';
  const digits = mant.replace('-', '').replace('.', '');
  if (!positional) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}.${frac || '0'}`;
}
