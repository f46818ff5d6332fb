// What spyglass keeps about one library between runs (docs/native-index.md): its sorted
// symbol table, which line program covers which addresses, and the source-line rows and
// the inline chains (which functions the compiler inlined where) of each function a frame
// was met in. All are what a `dump --native` spent most of its time building; kept in a file per library
// (index-store.ts), named by build-id, and trusted only for the very files it was made
// from (their size, modification time and inode, the module's and its debug file's).
import type { UnitRanges } from './compile-units.js';
import type { InlineChain, InlineRows } from './inlined.js';
import { lineAt, type LineRows, type SourceLine } from './line-table.js';
import { loadIndexFile, saveIndexFile } from './index-store.js';
import { SymbolTable } from './symbols.js';
import { lastAtOrBelow } from '../sorted.js';

/** functions whose lines (or inline chains) are kept per library, and their rows in all: past either, that list starts over */
export const MAX_LINE_RANGES = 4096;
export const MAX_LINE_ROWS = 1 << 18;

interface Range<R> {
  start: number;
  end: number;
  rows: R;
}

/**
 * Rows kept per function: sorted, non-overlapping link-time ranges, each with rows that
 * hold from their address up to the next row's (source lines, inline chains).
 */
class RangeRows<R extends { addr: ArrayLike<number> }> {
  ranges: Array<Range<R>> = [];
  private starts: number[] = [];
  rowCount = 0;

  /** The rows of the range holding pc, or undefined when no range does. */
  at(pc: number): R | undefined {
    const i = lastAtOrBelow(this.starts, pc);
    return i < 0 || pc >= this.ranges[i].end ? undefined : this.ranges[i].rows;
  }

  /** Keeps rows for [start, end), a function holding pc, cut to the part no range kept before covers; false when pc was covered already. */
  add(pc: number, start: number, end: number, rows: R): boolean {
    if (pc < start || pc >= end || this.at(pc) !== undefined) return false;
    const i = lastAtOrBelow(this.starts, pc) + 1;
    if (i > 0) start = Math.max(start, this.ranges[i - 1].end);
    if (i < this.ranges.length) end = Math.min(end, this.ranges[i].start);
    if (this.ranges.length >= MAX_LINE_RANGES || this.rowCount + rows.addr.length > MAX_LINE_ROWS) {
      this.ranges = [];
      this.starts = [];
      this.rowCount = 0;
      return this.add(pc, start, end, rows);
    }
    this.ranges.splice(i, 0, { start, end, rows });
    this.starts.splice(i, 0, start);
    this.rowCount += rows.addr.length;
    return true;
  }
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
  private readonly lines = new RangeRows<LineRows>();
  private readonly inline = new RangeRows<InlineRows>();
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
    const rows = this.lines.at(pc);
    return rows && (lineAt(rows, pc) ?? null);
  }

  /**
   * Keeps the rows of [start, end) (none: the range has no lines), a function holding pc,
   * cut to the part no range kept before covers.
   */
  addLines(pc: number, start: number, end: number, rows: LineRows): void {
    if (this.lines.add(pc, start, end, rows)) this.dirty = true;
  }

  /** The functions inlined at link-time address pc when a function holding it was looked at before: null for none, undefined when not known. */
  chainAt(pc: number): InlineChain | null | undefined {
    const rows = this.inline.at(pc);
    if (!rows) return undefined;
    const i = lastAtOrBelow(rows.addr, pc);
    return (i >= 0 && rows.chain[i]) || null;
  }

  /** Keeps the inline chains of [start, end) (no rows: nothing is inlined there), a function holding pc, cut as addLines does. */
  addChains(pc: number, start: number, end: number, rows: InlineRows): void {
    if (this.inline.add(pc, start, end, rows)) this.dirty = true;
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
    /** n ranges (starts, ends, first row of each and one past the last) over count rows: [start, end, first row, end row] each */
    const ranges = (n: number, count: number): Array<[number, number, number, number]> => {
      const starts = f64(n);
      const ends = f64(n);
      const firstRow = u32(n + 1);
      return Array.from(starts, (start, i) => {
        const a = firstRow[i];
        const b = firstRow[i + 1];
        if (a > b || b > count || (i > 0 && start < ends[i - 1]) || ends[i] <= start) throw new RangeError('index file: bad ranges');
        return [start, ends[i], a, b];
      });
    };
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
    const fileOf = (f: number) => {
      if (f >= meta.files.length) throw new RangeError('index file: a file number outside its table');
      return meta.files[f];
    };
    // lines: per range, its rows
    const lineRanges = ranges(meta.ranges, meta.rows);
    const rowAddr = f64(meta.rows);
    const rowLine = u32(meta.rows);
    const rowFile = u32(meta.rows);
    for (const [start, end, a, b] of lineRanges) {
      index.addLines(start, start, end, {
        addr: rowAddr.subarray(a, b),
        line: rowLine.subarray(a, b),
        file: Array.from(rowFile.subarray(a, b), fileOf),
      });
    }
    // inline chains: the chains (each its frames: name, call file + 1, call line), then per range its rows
    const firstFrame = u32(meta.chains + 1);
    const frameName = u32(meta.chainFrames);
    const frameFile = u32(meta.chainFrames);
    const frameLine = u32(meta.chainFrames);
    const chains: InlineChain[] = [];
    for (let i = 0; i < meta.chains; i++) {
      const a = firstFrame[i];
      const b = firstFrame[i + 1];
      if (a >= b || b > meta.chainFrames) throw new RangeError('index file: bad chains');
      const names: string[] = [];
      const callSites: Array<SourceLine | undefined> = [];
      for (let j = a; j < b; j++) {
        if (frameName[j] >= meta.names.length) throw new RangeError('index file: a name number outside its table');
        names.push(meta.names[frameName[j]]);
        callSites.push(frameFile[j] > 0 ? { file: fileOf(frameFile[j] - 1), line: frameLine[j] } : undefined);
      }
      chains.push({ names, callSites });
    }
    const inlineRanges = ranges(meta.inlineRanges, meta.inlineRows);
    const chainAddr = f64(meta.inlineRows);
    const chainNo = u32(meta.inlineRows);
    if (chainNo.some((c) => c > meta.chains)) throw new RangeError('index file: a chain number outside its table');
    for (const [start, end, a, b] of inlineRanges) {
      index.addChains(start, start, end, {
        addr: chainAddr.subarray(a, b),
        chain: Array.from(chainNo.subarray(a, b), (c) => (c > 0 ? chains[c - 1] : undefined)),
      });
    }
    index.dirty = false;
    return index;
  }

  /** Writes what this run added (whole, or not at all: index-store.ts). */
  save(): void {
    if (!this.dirty || this.name === undefined) return;
    this.dirty = false;
    saveIndexFile(this.name, encode(this.identity, this.symbolTable, this.unitRanges, this.lines.ranges, this.inline.ranges));
  }
}

// The body (after index-store.ts's header), little-endian, each array 8-byte aligned:
//   u32 meta length, meta (JSON: identity, symbol sources, counts, file names, inlined function names)
//   symbols: starts f64[n], ends f64[n], name offsets u32[n], names u8[nameBytes]
//   units: starts f64[u], ends f64[u], line program offsets f64[u], directories u32[u] (file numbers)
//   line ranges: starts f64[r], ends f64[r], first row u32[r + 1]
//   line rows: addresses f64[k], lines u32[k], file numbers u32[k]
//   chains: first frame u32[c + 1]; frames: name numbers u32[m], call file numbers + 1 u32[m] (0: none), call lines u32[m]
//   inline ranges: starts f64[q], ends f64[q], first row u32[q + 1]
//   inline rows: addresses f64[j], chain numbers + 1 u32[j] (0: nothing inlined)
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
  chains: number;
  chainFrames: number;
  inlineRanges: number;
  inlineRows: number;
  files: string[];
  /** the inlined functions' names the chains refer to by number */
  names: string[];
}

const align8 = (n: number) => (n + 7) & ~7;

/** Numbers strings in the order first met. */
class Numbering {
  readonly list: string[] = [];
  private readonly nos = new Map<string, number>();
  of(s: string): number {
    let n = this.nos.get(s);
    if (n === undefined) {
      n = this.list.push(s) - 1;
      this.nos.set(s, n);
    }
    return n;
  }
}

function encode(
  identity: string,
  symbols: SymbolTable | undefined,
  units: UnitRanges | undefined,
  lineRanges: Array<Range<LineRows>>,
  inlineRanges: Array<Range<InlineRows>>,
): Buffer {
  const sym = symbols?.parts();
  const files = new Numbering();
  const names = new Numbering();
  const rows = lineRanges.reduce((n, r) => n + r.rows.addr.length, 0);
  const rowFile = new Uint32Array(rows);
  const rowAddr = new Float64Array(rows);
  const rowLine = new Uint32Array(rows);
  const firstRow = new Uint32Array(lineRanges.length + 1);
  let k = 0;
  lineRanges.forEach((r, i) => {
    firstRow[i] = k;
    for (let j = 0; j < r.rows.addr.length; j++, k++) {
      rowAddr[k] = r.rows.addr[j];
      rowLine[k] = r.rows.line[j];
      rowFile[k] = files.of(r.rows.file[j]);
    }
  });
  firstRow[lineRanges.length] = k;
  const unitDirs = units ? Uint32Array.from(units.compDir, (d) => files.of(d)) : undefined;
  // chains: each written once however many rows share it
  const chainNo = new Map<string, number>();
  const firstFrame: number[] = [];
  const frameName: number[] = [];
  const frameFile: number[] = [];
  const frameLine: number[] = [];
  const numberOf = (c: InlineChain | undefined): number => {
    if (!c) return 0;
    const key = JSON.stringify(c);
    let n = chainNo.get(key);
    if (n === undefined) {
      firstFrame.push(frameName.length);
      c.names.forEach((name, i) => {
        const site = c.callSites[i];
        frameName.push(names.of(name));
        frameFile.push(site ? files.of(site.file) + 1 : 0);
        frameLine.push(site ? site.line : 0);
      });
      n = firstFrame.length;
      chainNo.set(key, n);
    }
    return n;
  };
  const inlineRows = inlineRanges.reduce((n, r) => n + r.rows.addr.length, 0);
  const chainAddr = new Float64Array(inlineRows);
  const chainOf = new Uint32Array(inlineRows);
  const firstChainRow = new Uint32Array(inlineRanges.length + 1);
  k = 0;
  inlineRanges.forEach((r, i) => {
    firstChainRow[i] = k;
    for (let j = 0; j < r.rows.addr.length; j++, k++) {
      chainAddr[k] = r.rows.addr[j];
      chainOf[k] = numberOf(r.rows.chain[j]);
    }
  });
  firstChainRow[inlineRanges.length] = k;
  firstFrame.push(frameName.length);
  const meta: Meta = {
    identity,
    sources: sym ? sym.sources : null,
    symbols: sym ? sym.starts.length : 0,
    nameBytes: sym ? sym.names.length : 0,
    units: units ? units.starts.length : -1,
    ranges: lineRanges.length,
    rows,
    chains: chainNo.size,
    chainFrames: frameName.length,
    inlineRanges: inlineRanges.length,
    inlineRows,
    files: files.list,
    names: names.list,
  };
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
  push(Float64Array.from(lineRanges, (r) => r.start));
  push(Float64Array.from(lineRanges, (r) => r.end));
  push(firstRow);
  push(rowAddr);
  push(rowLine);
  push(rowFile);
  push(Uint32Array.from(firstFrame));
  push(Uint32Array.from(frameName));
  push(Uint32Array.from(frameFile));
  push(Uint32Array.from(frameLine));
  push(Float64Array.from(inlineRanges, (r) => r.start));
  push(Float64Array.from(inlineRanges, (r) => r.end));
  push(firstChainRow);
  push(chainAddr);
  push(chainOf);
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}
