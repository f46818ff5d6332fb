// Python thread names, read from the target's `threading._active` ({ident: Thread}) and
// each Thread's `_name` (docs/cpython-layouts.md §6). Finding `threading` means walking
// sys.modules, the most expensive read the walk does, so everything is cached: the
// `_active` dict per interpreter, and the name per thread ident, including "no name"
// (threads started with _thread), which is only looked up again after a while.
import { MemoryReadError } from '../proc/memory.js';
import type { Layout } from './layouts/types.js';
import type { ObjectReader } from './objects.js';

/** How long a thread without a name (or an interpreter without threading) stays that way. */
const NEGATIVE_TTL_MS = 1000;

interface ActiveDict {
  addr: bigint;
  checkedAt: number;
}

export class ThreadNames {
  /**
   * interpreter -> thread ident -> name (nested maps: no key string to make per thread and
   * sample; Numbers, exact for these addresses: no BigInt either)
   */
  private readonly names = new Map<number, Map<number, { name?: string; at: number }>>();
  private readonly active = new Map<number, ActiveDict>();

  constructor(
    private readonly objects: ObjectReader,
    private readonly L: Layout,
  ) {}

  /**
   * The name of the thread with this ident in this interpreter, if threading knows it.
   * With recheck a recent miss is looked up again (at the cost of re-reading _active).
   */
  name(interp: number, ident: number, recheck = false): string | undefined {
    let names = this.names.get(interp);
    if (names === undefined) this.names.set(interp, (names = new Map()));
    const cached = names.get(ident);
    if (cached?.name !== undefined) return cached.name;
    const now = Date.now();
    if (cached && !recheck && now - cached.at < NEGATIVE_TTL_MS) return undefined;
    try {
      this.refresh(interp, names, now);
    } catch (e) {
      if (!(e instanceof MemoryReadError || e instanceof RangeError)) throw e;
    }
    const found = names.get(ident);
    if (!found || found.at !== now) names.set(ident, { at: now });
    return names.get(ident)!.name;
  }

  /** Re-reads every entry of threading._active. */
  private refresh(interp: number, names: Map<number, { name?: string; at: number }>, now: number): void {
    const active = this.activeDict(interp, now);
    if (!active) return;
    const o = this.objects;
    for (const [k, thread] of o.dict(active, 4096).items) {
      const ident = o.long(k, 3);
      if (ident === undefined) continue;
      const nameObj = o.attribute(thread, '_name');
      if (nameObj && o.typeOf(nameObj) === o.types.str) names.set(Number(ident), { name: o.str(nameObj, 256).text, at: now });
    }
  }

  private activeDict(interp: number, now: number): bigint | undefined {
    const cached = this.active.get(interp);
    if (cached && (cached.addr || now - cached.checkedAt < NEGATIVE_TTL_MS)) return cached.addr || undefined;
    const o = this.objects;
    const modules = o.m.ptr(BigInt(interp + this.L.interp.modules));
    const threading = modules ? o.dictGet(modules, 'threading') : undefined;
    const addr = (threading && o.attribute(threading, '_active')) || 0n;
    this.active.set(interp, { addr, checkedAt: now });
    return addr || undefined;
  }
}
