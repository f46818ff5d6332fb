// The native side of one target process: its modules, an unwinder over its memory, and
// the naming of the frames found. Unwinding happens while a thread is stopped; naming
// (symbol tables, demangling) afterwards, once the thread runs again.
import type { Regs } from '../proc/ptrace.js';
import { readMaps } from '../proc/maps.js';
import { ProcessMemory } from '../proc/memory.js';
import type { InlineChain } from './inlined.js';
import type { SourceLine } from './line-table.js';
import { ModuleMap, type NativeModule } from './modules.js';
import type { NativeFrame } from './types.js';
import { Unwinder, type RawStack } from './unwind.js';
import { nowMs } from '../clock.js';

/** How often the module list may be read again when a pc falls outside every known module (a library loaded since). */
const MAPS_REFRESH_MS = 1000;
/** names (and lines) kept per address: a sampler meets the same return addresses again and again */
const NAME_CACHE_MAX = 1 << 16;

interface Named {
  /** null: no symbol covers the address (the frame shows it as 0x…) */
  name: string | null;
  /** link-time range of the function holding the address, whose source lines are kept together */
  fn?: { start: number; end: number };
  /** undefined until lines were asked for; null when there are none */
  source?: SourceLine | null;
  /** the functions inlined at the address: undefined until asked for; null when none */
  inline?: InlineChain | null;
}

export interface ExpandOptions {
  /** give frames their source file and line (dump, stack); a profile needs the names only */
  lines?: boolean;
  /** which inlined frames to show (the merge's rule for interpreter plumbing); every one when not given */
  keep?: (f: NativeFrame) => boolean;
}

export class NativeProcess {
  readonly pid: number;
  private readonly mem: ProcessMemory;
  private modules: ModuleMap;
  private unwinder: Unwinder;
  private mapsReadAt: number;
  /** notes said once (a module that cannot be read) */
  readonly notes = new Set<string>();
  /** by the address looked up (pc, or pc - 1 for a return address) */
  private readonly named = new Map<bigint, Named>();
  /** each frame named here: its module and the address looked up, for addLines */
  private readonly origins = new WeakMap<NativeFrame, { module: NativeModule; key: bigint; named: Named }>();

  constructor(pid: number) {
    this.pid = pid;
    this.mem = ProcessMemory.open(pid);
    try {
      this.modules = new ModuleMap(pid, this.mem, readMaps(pid));
    } catch (e) {
      this.mem.close();
      throw e;
    }
    this.unwinder = new Unwinder(this.modules, this.mem);
    this.mapsReadAt = nowMs();
  }

  /** Reads every module's unwind tables now, so that no thread waits for it while stopped. */
  prepare(): void {
    for (const m of this.modules.modules) m.prepare();
  }

  /** Reads every module's symbol table now (record --native: not while a thread waits), MiniDebugInfo included. */
  async prepareSymbols(): Promise<void> {
    await this.loadMiniDebugInfo(this.modules.modules);
    for (const m of this.modules.modules) m.symbolTable();
  }

  /**
   * Decompresses the MiniDebugInfo of these modules (those that have one), before their
   * frames are named: its decoder is asynchronous (docs/native-unwinding.md §3).
   */
  async loadMiniDebugInfo(modules: Iterable<NativeModule>): Promise<void> {
    await Promise.all(
      [...new Set(modules)].map(async (m) => {
        await m.loadMiniDebugInfo();
        if (m.error) this.notes.add(m.error);
      }),
    );
  }

  /** The modules these stacks pass through. */
  modulesOf(stacks: Iterable<RawStack>): Set<NativeModule> {
    const out = new Set<NativeModule>();
    for (const stack of stacks) for (const f of stack.frames) if (f.module) out.add(f.module);
    return out;
  }

  /** Unwinds a thread stopped with these registers (call while it is stopped). */
  unwind(regs: Regs): RawStack {
    let stack = this.unwinder.unwind(regs);
    const last = stack.frames[stack.frames.length - 1];
    if (stack.stopped && !last.module && nowMs() - this.mapsReadAt > MAPS_REFRESH_MS) {
      // a library loaded after the module list was read (dlopen, an import): read it again
      this.refreshModules();
      stack = this.unwinder.unwind(regs);
    }
    return stack;
  }

  private refreshModules(): void {
    const old = this.modules;
    this.modules = new ModuleMap(this.pid, this.mem, readMaps(this.pid));
    this.unwinder = new Unwinder(this.modules, this.mem);
    this.mapsReadAt = nowMs();
    this.named.clear();
    old.close();
    // a library loaded since: its MiniDebugInfo names its frames from the next lookups on
    const modules = this.modules;
    void this.loadMiniDebugInfo(modules.modules).then(() => {
      if (this.modules === modules) this.named.clear();
    });
  }

  /** Names the frames of an unwound stack. */
  symbolize(stack: RawStack): NativeFrame[] {
    return stack.frames.map((f) => this.frameOf(f.pc, f.exact || !!f.signal, f.module, f.guessed));
  }

  /**
   * Shows the functions inlined at each frame named here as frames of their own, innermost
   * first, above the real function (marked inlined); with opts.lines, gives each its source
   * file and line: the innermost the line of the address, every other one the line of the
   * inlined call it holds. Called on the frames shown (after the merge dropped the
   * evaluation loop and the plumbing): the first address in a compilation unit reads that
   * unit's entries, the first line runs its line program; both are kept per address.
   */
  expand<T>(frames: T[], opts: ExpandOptions = {}): Array<T | NativeFrame> {
    const out: Array<T | NativeFrame> = [];
    for (const f of frames) {
      const origin = this.origins.get(f as NativeFrame);
      if (!origin) {
        out.push(f);
        continue;
      }
      const { named, module, key } = origin;
      const frame = f as NativeFrame;
      if (named.inline === undefined) named.inline = this.inlineAt(module, key, named.fn) ?? null;
      let source: SourceLine | undefined;
      if (opts.lines) {
        if (named.source === undefined) named.source = this.sourceOf(module, key, named.fn) ?? null;
        source = named.source ?? undefined;
      }
      const chain = named.inline;
      if (chain) {
        chain.names.forEach((name, i) => {
          const inl: NativeFrame = {
            kind: 'native',
            name,
            module: frame.module,
            modulePath: frame.modulePath,
            address: frame.address,
            inlined: true,
          };
          const at = opts.lines ? (i === 0 ? source : chain.callSites[i - 1]) : undefined;
          if (at) {
            inl.file = at.file;
            inl.line = at.line;
          }
          if (!opts.keep || opts.keep(inl)) out.push(inl);
        });
        // the real function is where the outermost inlined call is
        source = opts.lines ? chain.callSites[chain.callSites.length - 1] : undefined;
      }
      if (source) {
        frame.file = source.file;
        frame.line = source.line;
      }
      out.push(f);
    }
    return out;
  }

  private frameOf(pc: bigint, exact: boolean, module: NativeModule | undefined, guessed: boolean | undefined): NativeFrame {
    const frame: NativeFrame = { kind: 'native', name: '', module: module?.name ?? '?', address: pc };
    if (guessed) frame.guessed = true;
    if (!module) {
      frame.name = `0x${pc.toString(16)}`;
      return frame;
    }
    frame.modulePath = module.path;
    // a return address may be one past the end of its function (a call to a noreturn function)
    const key = exact ? pc : pc - 1n;
    let named = this.named.get(key);
    if (!named) {
      const symbols = module.symbolTable();
      if (!symbols && module.error) this.notes.add(module.error);
      const pc = Number(key - module.bias);
      const hit = symbols?.lookup(pc);
      named = hit ? { name: hit.name, fn: { start: pc - hit.offset, end: hit.end } } : { name: null };
      this.remember(key, named);
    }
    frame.name = named.name ?? `0x${pc.toString(16)}`;
    this.origins.set(frame, { module, key, named });
    return frame;
  }

  private remember(key: bigint, named: Named): void {
    if (this.named.size >= NAME_CACHE_MAX) this.named.clear();
    this.named.set(key, named);
  }

  private inlineAt(module: NativeModule, addr: bigint, fn: Named['fn']): InlineChain | undefined {
    let chain: InlineChain | null | undefined;
    try {
      chain = module.inlineChain(Number(addr - module.bias), fn);
    } catch (e) {
      this.notes.add(`cannot read the inlined functions of ${module.path}: ${(e as Error).message}`);
      return undefined;
    }
    if (chain === undefined && module.error) this.notes.add(module.error);
    return chain ?? undefined;
  }

  private sourceOf(module: NativeModule, addr: bigint, fn: Named['fn']): SourceLine | undefined {
    const line = module.sourceLine(Number(addr - module.bias), fn);
    if (!line && module.error) this.notes.add(module.error);
    return line;
  }

  close(): void {
    this.modules.close();
    this.mem.close();
  }
}
