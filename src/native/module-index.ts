// What spyglass keeps about one library between runs (docs/native-index.md): its sorted
// symbol table, which line program covers which addresses, and the source-line rows of
// each function a frame was met in. All are
// what a `dump --native` spent most of its time building; kept in a file per library
// (index-store.ts), named by build-id, and trusted only for the very files it was made
// from (their size, modification time and inode, the module's and its debug file's).
import type { UnitRanges } from './compile-units.js';
import { lineAt, type LineRows, type SourceLine } from './line-table.js';
import { loadIndexFile, saveIndexFile } from './index-store.js';
import { SymbolTable } from './symbols.js';
import { lastAtOrBelow } from '../sorted.js';

/** functions whose lines are kept per library, and their rows in all: past either, the lines start over */
export const MAX_LINE_RANGES = 4096;
export const MAX_LINE_ROWS = 1 << 18;

interface Range {
  start: number;
  end: number;
  rows: LineRows;
}

/** Loaded this run, by file name: a module list read again (record, the shell) reads no file twice. */
const loaded = new Map<string, ModuleIndex>();

export class ModuleIndex {
  /** the file's name in the store (undefined: kept in memory only, e.g. the vdso) */
  readonly name: string | undefined;
  /** the files it describes; a stored index for other files is ignored */
  readonly identity: string;
  private symbolTable?: SymbolTable;
  private unitRanges?: UnitRanges;
  /** sorted by start, not overlapping */
  private ranges: Range[] = [];
  private starts: number[] = [];
  private rowCount = 0;
  private dirty = false;

  private constructor(name: string | undefined, identity: string) {
    this.name = name;
    this.identity = identity;
  }

  /** The index stored under name for these files, or an empty one. */
  static open(name: string | undefined, identity: string): ModuleIndex {
    if (name === undefined) return new ModuleIndex(undefined, identity);
    const seen = loaded.get(name);
    if (seen?.identity === identity) return seen;
    const body = loadIndexFile(name);
    let index: ModuleIndex | undefined;
    try {
      index = body && ModuleIndex.decode(name, identity, body);
    } catch {
      index = undefined; // a file that does not hold what it says: built again
    }
    index ??= new ModuleIndex(name, identity);
    loaded.set(name, index);
    return index;
  }

  get symbols(): SymbolTable | undefined {
    return this.symbolTable;
  }

  setSymbols(table: SymbolTable): void {
    this.symbolTable = table;
    this.dirty = true;
  }

  /** which line program covers which addresses, once a line table was opened */
  get units(): UnitRanges | undefined {
    return this.unitRanges;
  }

  setUnits(units: UnitRanges): void {
    this.unitRanges = units;
    this.dirty = true;
  }

  /** The line at link-time address pc when a function holding it was looked at before: null for none, undefined when not known. */
  lineAt(pc: number): SourceLine | null | undefined {
    const i = lastAtOrBelow(this.starts, pc);
    if (i < 0 || pc >= this.ranges[i].end) return undefined;
    return lineAt(this.ranges[i].rows, pc) ?? null;
  }

  /**
   * Keeps the rows of [start, end) (none: the range has no lines), a function holding pc,
   * cut to the part no range kept before covers.
   */
  addLines(pc: number, start: number, end: number, rows: LineRows): void {
    if (pc < start || pc >= end || this.lineAt(pc) !== undefined) return;
    const i = lastAtOrBelow(this.starts, pc) + 1;
    if (i > 0) start = Math.max(start, this.ranges[i - 1].end);
    if (i < this.ranges.length) end = Math.min(end, this.ranges[i].start);
    if (this.ranges.length >= MAX_LINE_RANGES || this.rowCount + rows.addr.length > MAX_LINE_ROWS) {
      this.ranges = [];
      this.starts = [];
      this.rowCount = 0;
      this.addLines(pc, start, end, rows);
      return;
    }
    this.ranges.splice(i, 0, { start, end, rows });
    this.starts.splice(i, 0, start);
    this.rowCount += rows.addr.length;
    this.dirty = true;
  }

  /** Reads a body back; undefined when it is for other files; throws when it is malformed. */
  private static decode(name: string, identity: string, body: Buffer): ModuleIndex | undefined {
    // typed arrays need their own aligned copy when the buffer is not
    const buf = body.byteOffset % 8 ? Buffer.from(Uint8Array.prototype.slice.call(body)) : body;
    const metaLen = buf.readUInt32LE(0);
    const meta = JSON.parse(buf.toString('utf8', 4, 4 + metaLen)) as Meta;
    if (meta.identity !== identity) return undefined;
    let at = align8(4 + metaLen);
    const take = <T>(make: (b: ArrayBufferLike, off: number, n: number) => T, n: number, width: number): T => {
      if (!Number.isSafeInteger(n) || n < 0 || at + n * width > buf.length) throw new RangeError('index file too short');
      const v = make(buf.buffer, buf.byteOffset + at, n);
      at = align8(at + n * width);
      return v;
    };
    const f64 = (n: number) => take((b, o, len) => new Float64Array(b, o, len), n, 8);
    const u32 = (n: number) => take((b, o, len) => new Uint32Array(b, o, len), n, 4);
    const index = new ModuleIndex(name, identity);
    if (meta.sources) {
      const starts = f64(meta.symbols);
      const ends = f64(meta.symbols);
      const nameOffs = u32(meta.symbols);
      const names = take((b, o, len) => Buffer.from(b, o, len), meta.nameBytes, 1);
      if (nameOffs.some((o) => o >= names.length)) throw new RangeError('index file: a name outside its table');
      index.setSymbols(SymbolTable.fromParts({ starts, ends, nameOffs, names, sources: meta.sources }));
    }
    if (meta.units >= 0) {
      const starts = f64(meta.units);
      const ends = f64(meta.units);
      const stmtList = f64(meta.units);
      const dirs = u32(meta.units);
      if (dirs.some((f) => f >= meta.files.length)) throw new RangeError('index file: a directory outside its table');
      index.setUnits({ starts, ends, stmtList, compDir: Array.from(dirs, (f) => meta.files[f]) });
    }
    const starts = f64(meta.ranges);
    const ends = f64(meta.ranges);
    const firstRow = u32(meta.ranges + 1);
    const rowAddr = f64(meta.rows);
    const rowLine = u32(meta.rows);
    const rowFile = u32(meta.rows);
    if (rowFile.some((f) => f >= meta.files.length)) throw new RangeError('index file: a file number outside its table');
    for (let i = 0; i < meta.ranges; i++) {
      const a = firstRow[i];
      const b = firstRow[i + 1];
      if (a > b || b > meta.rows || (i > 0 && starts[i] < ends[i - 1]) || ends[i] <= starts[i])
        throw new RangeError('index file: bad ranges');
      index.addLines(starts[i], starts[i], ends[i], {
        addr: rowAddr.subarray(a, b),
        line: rowLine.subarray(a, b),
        file: Array.from(rowFile.subarray(a, b), (f) => meta.files[f]),
      });
    }
    index.dirty = false;
    return index;
  }

  /** Writes what this run added (whole, or not at all: index-store.ts). */
  save(): void {
    if (!this.dirty || this.name === undefined) return;
    this.dirty = false;
    saveIndexFile(this.name, encode(this.identity, this.symbolTable, this.unitRanges, this.ranges));
  }
}

// The body (after index-store.ts's header), little-endian, each array 8-byte aligned:
//   u32 meta length, meta (JSON: identity, symbol sources, counts, file names)
//   symbols: starts f64[n], ends f64[n], name offsets u32[n], names u8[nameBytes]
//   units: starts f64[u], ends f64[u], line program offsets f64[u], directories u32[u] (file numbers)
//   line ranges: starts f64[r], ends f64[r], first row u32[r + 1]
//   rows: addresses f64[k], lines u32[k], file numbers u32[k]
interface Meta {
  identity: string;
  /** null: no symbol table kept */
  sources: string[] | null;
  symbols: number;
  nameBytes: number;
  /** -1: no unit index kept */
  units: number;
  ranges: number;
  rows: number;
  files: string[];
}

const align8 = (n: number) => (n + 7) & ~7;

function encode(identity: string, symbols: SymbolTable | undefined, units: UnitRanges | undefined, ranges: Range[]): Buffer {
  const sym = symbols?.parts();
  const files: string[] = [];
  const fileNo = new Map<string, number>();
  const numberOf = (f: string) => {
    let n = fileNo.get(f);
    if (n === undefined) {
      n = files.push(f) - 1;
      fileNo.set(f, n);
    }
    return n;
  };
  const rows = ranges.reduce((n, r) => n + r.rows.addr.length, 0);
  const meta: Meta = {
    identity,
    sources: sym ? sym.sources : null,
    symbols: sym ? sym.starts.length : 0,
    nameBytes: sym ? sym.names.length : 0,
    units: units ? units.starts.length : -1,
    ranges: ranges.length,
    rows,
    files,
  };
  const rowFile = new Uint32Array(rows);
  const rowAddr = new Float64Array(rows);
  const rowLine = new Uint32Array(rows);
  const firstRow = new Uint32Array(ranges.length + 1);
  let k = 0;
  ranges.forEach((r, i) => {
    firstRow[i] = k;
    for (let j = 0; j < r.rows.addr.length; j++, k++) {
      rowAddr[k] = r.rows.addr[j];
      rowLine[k] = r.rows.line[j];
      rowFile[k] = numberOf(r.rows.file[j]);
    }
  });
  firstRow[ranges.length] = k;
  const unitDirs = units ? Uint32Array.from(units.compDir, numberOf) : undefined;
  const metaBuf = Buffer.from(JSON.stringify(meta), 'utf8');
  const parts: Array<ArrayBufferView> = [];
  const head = Buffer.alloc(4);
  head.writeUInt32LE(metaBuf.length);
  let size = 0;
  const push = (v: ArrayBufferView) => {
    parts.push(v);
    size += v.byteLength;
    if (size % 8) {
      parts.push(Buffer.alloc(8 - (size % 8)));
      size = align8(size);
    }
  };
  push(Buffer.concat([head, metaBuf]));
  if (sym) {
    push(sym.starts);
    push(sym.ends);
    push(sym.nameOffs);
    push(sym.names);
  }
  if (units && unitDirs) {
    push(units.starts);
    push(units.ends);
    push(units.stmtList);
    push(unitDirs);
  }
  push(Float64Array.from(ranges, (r) => r.start));
  push(Float64Array.from(ranges, (r) => r.end));
  push(firstRow);
  push(rowAddr);
  push(rowLine);
  push(rowFile);
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}
