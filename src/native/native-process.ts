// The native side of one target process: its modules, an unwinder over its memory, and
// the naming of the frames found. Unwinding happens while a thread is stopped; naming
// (symbol tables, demangling) afterwards, once the thread runs again.
import type { Regs } from '../proc/ptrace.js';
import { readMaps } from '../proc/maps.js';
import { ProcessMemory } from '../proc/memory.js';
import { ModuleMap, type NativeModule } from './modules.js';
import type { NativeFrame } from './types.js';
import { Unwinder, type RawStack } from './unwind.js';

/** How often the module list may be read again when a pc falls outside every known module (a library loaded since). */
const MAPS_REFRESH_MS = 1000;

export class NativeProcess {
  readonly pid: number;
  private readonly mem: ProcessMemory;
  private modules: ModuleMap;
  private unwinder: Unwinder;
  private mapsReadAt: number;
  /** notes said once (a module that cannot be read) */
  readonly notes = new Set<string>();

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
    this.mapsReadAt = performance.now();
  }

  /** Reads every module's unwind tables now, so that no thread waits for it while stopped. */
  prepare(): void {
    for (const m of this.modules.modules) m.prepare();
  }

  /** Reads every module's symbol table now (record --native: not while a thread waits). */
  prepareSymbols(): void {
    for (const m of this.modules.modules) m.symbolTable();
  }

  /** Unwinds a thread stopped with these registers (call while it is stopped). */
  unwind(regs: Regs): RawStack {
    let stack = this.unwinder.unwind(regs);
    const last = stack.frames[stack.frames.length - 1];
    if (stack.stopped && !last.module && performance.now() - this.mapsReadAt > MAPS_REFRESH_MS) {
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
    this.mapsReadAt = performance.now();
    old.close();
  }

  /** Names the frames of an unwound stack. */
  symbolize(stack: RawStack): NativeFrame[] {
    return stack.frames.map((f) => this.frameOf(f.pc, f.exact || !!f.signal, f.module, f.guessed));
  }

  private frameOf(pc: bigint, exact: boolean, module: NativeModule | undefined, guessed?: boolean): NativeFrame {
    const frame: NativeFrame = { kind: 'native', name: '', module: module?.name ?? '?', address: pc };
    if (guessed) frame.guessed = true;
    if (!module) {
      frame.name = `0x${pc.toString(16)}`;
      return frame;
    }
    frame.modulePath = module.path;
    const symbols = module.symbolTable();
    if (!symbols && module.error) this.notes.add(module.error);
    // a return address may be one past the end of its function (a call to a noreturn function)
    const at = Number((exact ? pc : pc - 1n) - module.bias);
    const hit = symbols?.lookup(at);
    frame.name = hit ? hit.name : `0x${pc.toString(16)}`;
    return frame;
  }

  close(): void {
    this.modules.close();
    this.mem.close();
  }
}
