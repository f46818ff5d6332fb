// The executable modules of a process (the program, its shared libraries, the vdso) with
// the load bias of each, from /proc/PID/maps. A module's file is opened through
// /proc/PID/root, so that a target in a container is read from its own filesystem, and
// a deleted file (a library replaced on disk after it was loaded) through
// /proc/PID/map_files; the vdso has no file: its image is copied from the target's
// memory (docs/native-unwinding.md §1). Symbols and source lines may come from a
// separate debug file, symbols also from the module's MiniDebugInfo (§3). What was
// learnt of a module is kept between runs (module-index.ts).
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { ElfFile } from '../proc/elf.js';
import type { MapEntry } from '../proc/maps.js';
import type { ProcessMemory } from '../proc/memory.js';
import { UnwindTable } from './cfi.js';
import { buildId, findDebugFile } from './debug-file.js';
import type { UnitRanges } from './compile-units.js';
import { PooledFile } from './file-pool.js';
import { type InlineChain, type InlinedFunctions, openInlined } from './inlined.js';
import { type LineRows, type LineTable, type SourceLine, openLineTable } from './line-table.js';
import { hasMiniDebugInfo, MINI_DEBUGINFO_SECTION, readMiniDebugInfo } from './mini-debuginfo.js';
import { ModuleIndex } from './module-index.js';
import { loadSymbols, type SymbolTable } from './symbols.js';
import { lastAtOrBelow } from '../sorted.js';

/**
 * Line tables by build-id, kept for the life of spyglass, one per library met with lines.
 * An uncompressed .debug_info is read a unit at a time from the file, through the pool
 * that bounds how many files are open (file-pool.ts).
 */
const linesByBuildId = new Map<string, LineTable | null>();
/** the file each line table was read from: its .debug_info also says what was inlined */
const linePaths = new WeakMap<LineTable, string>();
/** Inlined-function indexes by build-id, over the same file as the line table ('failed': one could not be read). */
const inlinedByBuildId = new Map<string, InlinedFunctions | null | 'failed'>();
/** MiniDebugInfo images by build-id, or why one could not be read (a corrupt section); decompressed once each */
const miniByBuildId = new Map<string, Promise<ElfFile | string>>();

const PT_LOAD = 1;
const PF_X = 1;
const DELETED = ' (deleted)';

export class NativeModule {
  /** the path as the target sees it; "[vdso]" for the vdso */
  readonly path: string;
  /** what frames show: the file's base name */
  readonly name: string;
  /** executable address ranges */
  readonly ranges: Array<{ start: bigint; end: bigint }> = [];
  /** runtime address = link-time address + bias (set once the ELF file is read) */
  bias = 0n;
  /** why the module's file could not be used (its frames then show as addresses) */
  error?: string;
  private readonly mappings: MapEntry[];
  private readonly pid: number;
  private readonly mem: ProcessMemory;
  private elf?: ElfFile;
  private opened = false;
  private table?: UnwindTable;
  private symbols?: SymbolTable;
  private id?: string;
  /** the separate debug file's path, once looked for (null: none) */
  private debugFound?: string | null;
  /** the separate debug file's path and image, once opened (null: none, or unreadable) */
  private debug?: { path: string; elf: ElfFile } | null;
  private lines?: LineTable | null;
  /** why the line table could not be read (its frames then get no lines, and no line is kept for them) */
  private linesFailed = false;
  private index?: ModuleIndex;
  private inlined?: InlinedFunctions | null;
  /** why no inlined-function index: one could not be read (then no chain is kept for its frames) */
  private inlinedFailed = false;
  /** the MiniDebugInfo image, once decompressed (null: none, or unreadable) */
  private mini?: ElfFile | null;

  constructor(pid: number, mem: ProcessMemory, path: string, mappings: MapEntry[]) {
    this.pid = pid;
    this.mem = mem;
    this.mappings = mappings;
    this.path = path.endsWith(DELETED) ? path.slice(0, -DELETED.length) : path;
    this.name = basename(this.path);
    for (const m of mappings) if (m.perms[2] === 'x') this.ranges.push({ start: m.start, end: m.end });
  }

  get isVdso(): boolean {
    return this.path === '[vdso]';
  }

  /** The open ELF image, or undefined (with error set) when it cannot be read. */
  private open(): ElfFile | undefined {
    if (this.opened) return this.elf;
    this.opened = true;
    try {
      if (this.isVdso) {
        const m = this.mappings[0];
        this.elf = ElfFile.fromImage('[vdso]', this.mem.read(m.start, Number(m.end - m.start)));
      } else this.elf = ElfFile.open(this.fileToOpen());
      this.bias = this.computeBias(this.elf);
      this.id = buildId(this.elf);
    } catch (e) {
      this.elf?.close();
      this.elf = undefined;
      this.error = `cannot read ${this.path}: ${(e as Error).message}`;
    }
    return this.elf;
  }

  private fileToOpen(): string {
    const m = this.mappings[0];
    if (m.path.endsWith(DELETED)) return `/proc/${this.pid}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`;
    const viaRoot = `/proc/${this.pid}/root${this.path}`;
    return existsSync(viaRoot) ? viaRoot : this.path;
  }

  /** bias from the executable mapping: it maps file offset m.offset, which the executable PT_LOAD places at a known vaddr */
  private computeBias(elf: ElfFile): bigint {
    const m = this.mappings.find((x) => x.perms[2] === 'x') ?? this.mappings[0];
    if (this.isVdso) return m.start - elf.firstLoadVaddr;
    const seg = elf.segments.find(
      (s) => s.type === PT_LOAD && s.flags & PF_X && m.offset >= s.offset - (s.offset % 0x1000n) && m.offset < s.offset + s.filesz,
    );
    if (!seg) return m.start - m.offset - elf.firstLoadVaddr;
    return m.start - (seg.vaddr - seg.offset + m.offset);
  }

  /** Unwind tables, read on first use. */
  unwindTable(): UnwindTable | undefined {
    if (this.table) return this.table;
    const elf = this.open();
    if (!elf) return undefined;
    try {
      this.table = new UnwindTable(elf);
    } catch (e) {
      this.error = `cannot read the unwind tables of ${this.path}: ${(e as Error).message}`;
      return undefined;
    }
    return this.table;
  }

  /** Where the separate debug file is (found by build-id or .gnu_debuglink), looked for once. */
  private debugPath(elf: ElfFile): string | undefined {
    // the target's own filesystem first (a container), then this machine's
    if (this.debugFound === undefined)
      this.debugFound = (!this.isVdso && findDebugFile(elf, this.path, [`/proc/${this.pid}/root`, ''])) || null;
    return this.debugFound ?? undefined;
  }

  /** The separate debug file, opened on first use: only what the stored index does not hold needs it. */
  private debugFile(elf: ElfFile): { path: string; elf: ElfFile } | undefined {
    if (this.debug !== undefined) return this.debug ?? undefined;
    this.debug = null;
    const path = this.debugPath(elf);
    if (!path) return undefined;
    try {
      this.debug = { path, elf: ElfFile.open(path) };
    } catch {
      /* an unreadable debug file only costs names and lines */
    }
    return this.debug ?? undefined;
  }

  /** The sorted symbol table: from the stored index when it has one, else built (and then stored). */
  symbolTable(): SymbolTable | undefined {
    if (this.symbols) return this.symbols;
    const elf = this.open();
    if (!elf) return undefined;
    const index = this.moduleIndex(elf);
    if (index.symbols) return (this.symbols = index.symbols);
    try {
      // a table made before the MiniDebugInfo was decompressed is this module's only, never cached for its build-id
      const complete = this.mini !== undefined || !hasMiniDebugInfo(elf);
      this.symbols = loadSymbols(elf, complete ? this.id : undefined, this.debugFile(elf), this.mini ?? undefined);
    } catch (e) {
      this.error = `cannot read the symbols of ${this.path}: ${(e as Error).message}`;
      return undefined;
    }
    // stored only whole: with the MiniDebugInfo's symbols when the module has one (one
    // that could not be read is tried again, and said again, by the next run)
    if (this.mini || !hasMiniDebugInfo(elf)) index.setSymbols(this.symbols);
    return this.symbols;
  }

  /**
   * What is kept about this module between runs (module-index.ts), for exactly these
   * files: the module's and its debug file's device, inode, size and modification time.
   */
  private moduleIndex(elf: ElfFile): ModuleIndex {
    if (this.index) return this.index;
    const debug = this.debugPath(elf);
    const files = this.isVdso ? [] : [this.fileToOpen(), ...(debug ? [debug] : [])];
    // the files themselves, not the paths they were reached by: those name the target's
    // pid (/proc/PID/root/...), and the next target is another process
    const identity = files
      .map((f) => {
        const st = statSync(f);
        return `${st.dev} ${st.ino} ${st.size} ${st.mtimeMs}`;
      })
      .join('\n');
    // the vdso has no file: what is known of it is kept for this run only
    const name = this.isVdso ? undefined : this.id ? `b-${this.id}` : `f-${fnv1a(identity)}`;
    this.index = ModuleIndex.open(name, identity);
    return this.index;
  }

  /**
   * The source line of link-time address pc, inside the function [fn.start, fn.end) when
   * a symbol covers it: the function's rows are kept (and stored), so the line table is
   * opened only for a function not met before.
   */
  sourceLine(pc: number, fn: { start: number; end: number } | undefined): SourceLine | undefined {
    const elf = this.open();
    if (!elf || this.isVdso) return undefined;
    const index = this.moduleIndex(elf);
    const known = index.lineAt(pc);
    if (known !== undefined) return known ?? undefined;
    const table = this.lineTable(index.units);
    if (this.linesFailed) return undefined;
    const [start, end] = fn ? [fn.start, fn.end] : [pc, pc + 1];
    let rows: LineRows | undefined;
    try {
      rows = table?.rowsIn(pc, start, end);
    } catch (e) {
      this.error = `cannot read the source lines of ${this.path}: ${(e as Error).message}`;
      return undefined;
    }
    index.addLines(pc, start, end, rows ?? { addr: [], line: [], file: [] });
    if (table && !index.units) {
      try {
        index.setUnits(table.unitRanges());
      } catch {
        /* then the next run reads the unit index from the file again */
      }
    }
    return index.lineAt(pc) ?? undefined;
  }

  /**
   * Decompresses the module's MiniDebugInfo (.gnu_debugdata), if it has one, so that its
   * symbols name frames; asynchronous, as its decoder is (mini-debuginfo.ts). A corrupt
   * section leaves error set and costs only the names it would have given.
   */
  async loadMiniDebugInfo(): Promise<void> {
    if (this.mini !== undefined) return;
    const elf = this.open();
    // a stored symbol table already holds the MiniDebugInfo's symbols: nothing to decompress
    if (!elf || this.isVdso || !hasMiniDebugInfo(elf) || this.moduleIndex(elf).symbols) {
      this.mini = null;
      return;
    }
    let pending = this.id !== undefined ? miniByBuildId.get(this.id) : undefined;
    if (!pending) {
      pending = readMiniDebugInfo(elf).then(
        (image) => image ?? 'it holds no ELF image',
        (e: Error) => e.message,
      );
      if (this.id !== undefined) miniByBuildId.set(this.id, pending);
    }
    const got = await pending;
    if (typeof got === 'string') {
      this.mini = null;
      this.error = `cannot read the ${MINI_DEBUGINFO_SECTION} (MiniDebugInfo) symbols of ${this.path}: ${got}`;
      return;
    }
    this.mini = got;
    // a table made without it is made again with it
    this.symbols = undefined;
  }

  /** Source lines (.debug_line of the debug file, else of the module), or undefined when neither has any. */
  private lineTable(units: UnitRanges | undefined): LineTable | undefined {
    if (this.lines !== undefined) return this.lines ?? undefined;
    this.lines = null;
    const elf = this.open();
    if (!elf || this.isVdso) return undefined;
    const cached = this.id !== undefined ? linesByBuildId.get(this.id) : undefined;
    if (cached !== undefined) return (this.lines = cached) ?? undefined;
    const debug = this.debugFile(elf);
    let failed = false;
    for (const path of debug ? [debug.path, this.fileToOpen()] : [this.fileToOpen()]) {
      // its own handle, in the pool: the table outlives this process's module list (cached per build-id)
      let file: ElfFile | undefined;
      try {
        file = ElfFile.open(path);
        this.lines = openLineTable(file, new PooledFile(path), units) ?? null;
        if (this.lines) linePaths.set(this.lines, path);
      } catch (e) {
        this.error = `cannot read the source lines of ${this.path}: ${(e as Error).message}`;
        failed = true;
      } finally {
        file?.close();
      }
      if (this.lines) break;
    }
    this.linesFailed = failed && !this.lines;
    if (this.id !== undefined) linesByBuildId.set(this.id, this.lines);
    return this.lines ?? undefined;
  }

  /**
   * The functions inlined at link-time address pc, inside the function [fn.start, fn.end)
   * when a symbol covers it: the function's chains are kept (and stored), so .debug_info is
   * read only for a function not met before. null: nothing inlined there; undefined: the
   * module has no inlined-function index (error says why when one could not be read).
   * Throws when the entries cannot be read.
   */
  inlineChain(pc: number, fn: { start: number; end: number } | undefined): InlineChain | null | undefined {
    const elf = this.open();
    if (!elf || this.isVdso) return undefined;
    const index = this.moduleIndex(elf);
    const known = index.chainAt(pc);
    if (known !== undefined) return known;
    const inlined = this.inlinedFunctions();
    // one that could not be read is tried again (and said again) by the next run
    if (!inlined && this.inlinedFailed) return undefined;
    const [start, end] = fn ? [fn.start, fn.end] : [pc, pc + 1];
    index.addChains(pc, start, end, inlined ? inlined.chainsIn(start, end) : { addr: [], chain: [] });
    return inlined ? (index.chainAt(pc) ?? null) : undefined;
  }

  /** Which functions were inlined where (from the file the line table came from), or undefined. */
  private inlinedFunctions(): InlinedFunctions | undefined {
    if (this.inlined !== undefined) return this.inlined ?? undefined;
    const elf = this.open();
    const lines = elf && this.lineTable(this.moduleIndex(elf).units);
    this.inlined = null;
    this.inlinedFailed = this.linesFailed;
    const path = lines && linePaths.get(lines);
    if (!lines || !path) return undefined;
    const cached = this.id !== undefined ? inlinedByBuildId.get(this.id) : undefined;
    if (cached !== undefined) {
      this.inlinedFailed = cached === 'failed';
      return (this.inlined = cached === 'failed' ? null : cached) ?? undefined;
    }
    let file: ElfFile | undefined;
    try {
      // like the line table, read later through the pool of open files
      file = ElfFile.open(path);
      this.inlined = openInlined(file, lines, new PooledFile(path)) ?? null;
    } catch (e) {
      this.error = `cannot read the inlined functions of ${this.path}: ${(e as Error).message}`;
      this.inlinedFailed = true;
    } finally {
      file?.close();
    }
    if (this.id !== undefined) inlinedByBuildId.set(this.id, this.inlinedFailed ? 'failed' : this.inlined);
    return this.inlined ?? undefined;
  }

  /** Reads what needs the file once (bias, unwind tables) so that a later unwind does not. */
  prepare(): void {
    this.unwindTable();
  }

  /** Stores what this run learnt about the module for the next (module-index.ts), and lets go of its files. */
  close(): void {
    this.index?.save();
    this.elf?.close();
    this.elf = undefined;
    if (this.debug) this.debug.elf.close();
    this.debug = undefined;
  }
}

/** Every module with executable code, found by address. */
export class ModuleMap {
  readonly modules: NativeModule[];
  private readonly starts: bigint[] = [];
  private readonly ends: bigint[] = [];
  private readonly owners: NativeModule[] = [];

  constructor(pid: number, mem: ProcessMemory, maps: MapEntry[]) {
    const byFile = new Map<string, MapEntry[]>();
    for (const m of maps) {
      if (!m.path || (m.path.startsWith('[') && m.path !== '[vdso]')) continue;
      // two files at one path (one replaced on disk, both mapped) differ by inode
      const key = `${m.path}\0${m.dev}\0${m.inode}`;
      const list = byFile.get(key);
      if (list) list.push(m);
      else byFile.set(key, [m]);
    }
    this.modules = [];
    for (const list of byFile.values()) {
      if (!list.some((m) => m.perms[2] === 'x')) continue;
      list.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
      this.modules.push(new NativeModule(pid, mem, list[0].path, list));
    }
    const ranges = this.modules.flatMap((mod) => mod.ranges.map((r) => ({ ...r, mod })));
    ranges.sort((a, b) => (a.start < b.start ? -1 : 1));
    for (const r of ranges) {
      this.starts.push(r.start);
      this.ends.push(r.end);
      this.owners.push(r.mod);
    }
  }

  /** The module whose executable code holds addr. */
  at(addr: bigint): NativeModule | undefined {
    const hi = lastAtOrBelow(this.starts, addr);
    return hi >= 0 && addr < this.ends[hi] ? this.owners[hi] : undefined;
  }

  close(): void {
    for (const m of this.modules) m.close();
  }
}

/** FNV-1a of a string, as hex: a stored index's name for a module without a build-id. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}
