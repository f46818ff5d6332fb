// The executable modules of a process (the program, its shared libraries, the vdso) with
// the load bias of each, from /proc/PID/maps. A module's file is opened through
// /proc/PID/root, so that a target in a container is read from its own filesystem, and
// a deleted file (a library replaced on disk after it was loaded) through
// /proc/PID/map_files; the vdso has no file: its image is copied from the target's
// memory (docs/native-unwinding.md §1). Symbols and source lines may come from a
// separate debug file, symbols also from the module's MiniDebugInfo (§3).
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { ElfFile } from '../proc/elf.js';
import type { MapEntry } from '../proc/maps.js';
import type { ProcessMemory } from '../proc/memory.js';
import { UnwindTable } from './cfi.js';
import { buildId, findDebugFile } from './debug-file.js';
import { PooledFile } from './file-pool.js';
import { type InlinedFunctions, openInlined } from './inlined.js';
import { type LineTable, openLineTable } from './line-table.js';
import { hasMiniDebugInfo, MINI_DEBUGINFO_SECTION, readMiniDebugInfo } from './mini-debuginfo.js';
import { cachedSymbols, loadSymbols, lookupFew, type SymbolHit, type SymbolTable } from './symbols.js';
import { lastAtOrBelow } from '../sorted.js';

/**
 * Line tables by build-id, kept for the life of spyglass, one per library met with lines.
 * An uncompressed .debug_info is read a unit at a time from the file, through the pool
 * that bounds how many files are open (file-pool.ts).
 */
const linesByBuildId = new Map<string, LineTable | null>();
/** the file each line table was read from: its .debug_info also says what was inlined */
const linePaths = new WeakMap<LineTable, string>();
/** Inlined-function indexes by build-id, over the same file as the line table. */
const inlinedByBuildId = new Map<string, InlinedFunctions | null>();
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
  /** the separate debug file's path and image, once looked for (null: none) */
  private debug?: { path: string; elf: ElfFile } | null;
  private lines?: LineTable | null;
  private inlined?: InlinedFunctions | null;
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

  /** The separate debug file (found by build-id or .gnu_debuglink), opened on first use. */
  private debugFile(elf: ElfFile): { path: string; elf: ElfFile } | undefined {
    if (this.debug !== undefined) return this.debug ?? undefined;
    this.debug = null;
    if (this.isVdso) return undefined;
    // the target's own filesystem first (a container), then this machine's
    const path = findDebugFile(elf, this.path, [`/proc/${this.pid}/root`, '']);
    if (!path) return undefined;
    try {
      this.debug = { path, elf: ElfFile.open(path) };
    } catch {
      /* an unreadable debug file only costs names and lines */
    }
    return this.debug ?? undefined;
  }

  symbolTable(): SymbolTable | undefined {
    if (this.symbols) return this.symbols;
    const elf = this.open();
    if (!elf) return undefined;
    try {
      // a table made before the MiniDebugInfo was decompressed is this module's only, never cached for its build-id
      const complete = this.mini !== undefined || !hasMiniDebugInfo(elf);
      this.symbols = loadSymbols(elf, complete ? this.id : undefined, this.debugFile(elf), this.mini ?? undefined);
    } catch (e) {
      this.error = `cannot read the symbols of ${this.path}: ${(e as Error).message}`;
      return undefined;
    }
    return this.symbols;
  }

  /**
   * Names for a few link-time addresses: through the symbol table when it is loaded (or
   * cached from another process), else by one pass over the raw tables (symbols.ts).
   */
  namesFor(pcs: number[]): Array<SymbolHit | undefined> | undefined {
    const elf = this.open();
    if (!elf) return undefined;
    this.symbols ??= cachedSymbols(this.id);
    if (this.symbols) return pcs.map((pc) => this.symbols!.lookup(pc));
    try {
      return lookupFew(elf, this.debugFile(elf), pcs, this.mini ?? undefined);
    } catch (e) {
      this.error = `cannot read the symbols of ${this.path}: ${(e as Error).message}`;
      return undefined;
    }
  }

  /**
   * Decompresses the module's MiniDebugInfo (.gnu_debugdata), if it has one, so that its
   * symbols name frames; asynchronous, as its decoder is (mini-debuginfo.ts). A corrupt
   * section leaves error set and costs only the names it would have given.
   */
  async loadMiniDebugInfo(): Promise<void> {
    if (this.mini !== undefined) return;
    const elf = this.open();
    if (!elf || this.isVdso || !hasMiniDebugInfo(elf)) {
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
  lineTable(): LineTable | undefined {
    if (this.lines !== undefined) return this.lines ?? undefined;
    this.lines = null;
    const elf = this.open();
    if (!elf || this.isVdso) return undefined;
    const cached = this.id !== undefined ? linesByBuildId.get(this.id) : undefined;
    if (cached !== undefined) return (this.lines = cached) ?? undefined;
    const debug = this.debugFile(elf);
    for (const path of debug ? [debug.path, this.fileToOpen()] : [this.fileToOpen()]) {
      // its own handle, in the pool: the table outlives this process's module list (cached per build-id)
      let file: ElfFile | undefined;
      try {
        file = ElfFile.open(path);
        this.lines = openLineTable(file, new PooledFile(path)) ?? null;
        if (this.lines) linePaths.set(this.lines, path);
      } catch (e) {
        this.error = `cannot read the source lines of ${this.path}: ${(e as Error).message}`;
      } finally {
        file?.close();
      }
      if (this.lines) break;
    }
    if (this.id !== undefined) linesByBuildId.set(this.id, this.lines);
    return this.lines ?? undefined;
  }

  /** Which functions were inlined where (from the file the line table came from), or undefined. */
  inlinedFunctions(): InlinedFunctions | undefined {
    if (this.inlined !== undefined) return this.inlined ?? undefined;
    const lines = this.lineTable();
    this.inlined = null;
    const path = lines && linePaths.get(lines);
    if (!lines || !path) return undefined;
    const cached = this.id !== undefined ? inlinedByBuildId.get(this.id) : undefined;
    if (cached !== undefined) return (this.inlined = cached) ?? undefined;
    let file: ElfFile | undefined;
    try {
      // like the line table, read later through the pool of open files
      file = ElfFile.open(path);
      this.inlined = openInlined(file, lines, new PooledFile(path)) ?? null;
    } catch (e) {
      this.error = `cannot read the inlined functions of ${this.path}: ${(e as Error).message}`;
    } finally {
      file?.close();
    }
    if (this.id !== undefined) inlinedByBuildId.set(this.id, this.inlined);
    return this.inlined ?? undefined;
  }

  /** Reads what needs the file once (bias, unwind tables) so that a later unwind does not. */
  prepare(): void {
    this.unwindTable();
  }

  close(): void {
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
