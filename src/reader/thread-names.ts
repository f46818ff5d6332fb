// Python thread names, read from the target's `threading._active` ({ident: Thread}) and
// each Thread's `_name` (docs/cpython-layouts.md §6). Finding `threading` means walking
// sys.modules, the most expensive read the walk does, so everything is cached: the
// `_active` dict per interpreter, and the name per thread ident. A name found is read
// again after NAME_TTL_MS: glibc hands a new thread the ident of one that ended (a
// thread per request), and a thread may be renamed. "No name" (threads started with
// _thread, or not registered yet) is looked up again after a wait that grows from
// FIRST_RETRY_MS to MAX_RETRY_MS: a thread met in the moment between its start and its
// registration (every thread of a program launched by `record`, whose first samples come
// before `import threading`) gets its name within a few samples, while a thread that
// never has one costs a lookup a second.
import { MemoryReadError } from '../proc/memory.js';
import type { Layout } from './layouts/types.js';
import type { ObjectReader } from './objects.js';

/** a longer thread name is shown cut, with an ellipsis */
const MAX_NAME_CHARS = 256;

const FIRST_RETRY_MS = 25;
const MAX_RETRY_MS = 1000;
const NAME_TTL_MS = 1000;

/** A name found, or a miss with the time it was seen and how long it is trusted. */
interface Known {
  name?: string;
  at: number;
  wait: number;
}

interface ActiveDict {
  addr: bigint;
  checkedAt: number;
  wait: number;
}

/** The wait after a miss that follows `previous` (undefined: the first miss). */
function nextWait(previous: number | undefined): number {
  return previous === undefined ? FIRST_RETRY_MS : Math.min(2 * previous, MAX_RETRY_MS);
}

export class ThreadNames {
  /**
   * interpreter -> thread ident -> name (nested maps: no key string to make per thread and
   * sample; Numbers, exact for these addresses: no BigInt either)
   */
  private readonly names = new Map<number, Map<number, Known>>();
  private readonly active = new Map<number, ActiveDict>();
  /** per interpreter, when _active was last read: once per instant however many threads miss */
  private readonly refreshedAt = new Map<number, number>();

  constructor(
    private readonly objects: ObjectReader,
    private readonly L: Layout,
  ) {}

  /**
   * The name of the thread with this ident in this interpreter, if threading knows it,
   * `now` being the caller's nowMs(). With recheck a recent miss is looked up again (at
   * the cost of re-reading _active).
   */
  name(interp: number, ident: number, now: number, recheck = false): string | undefined {
    let names = this.names.get(interp);
    if (names === undefined) this.names.set(interp, (names = new Map()));
    const cached = names.get(ident);
    if (cached !== undefined && now - cached.at < cached.wait && (cached.name !== undefined || !recheck)) return cached.name;
    if (this.refreshedAt.get(interp) !== now) {
      this.refreshedAt.set(interp, now);
      try {
        this.refresh(interp, names, now);
      } catch (e) {
        if (!(e instanceof MemoryReadError || e instanceof RangeError)) throw e;
      }
    }
    const found = names.get(ident);
    if (found !== undefined && found.at === now) return found.name;
    // a miss after a miss waits longer; after a name (the thread ended) starts afresh
    names.set(ident, { at: now, wait: nextWait(cached?.name === undefined ? cached?.wait : undefined) });
    return undefined;
  }

  /** Re-reads every entry of threading._active. */
  private refresh(interp: number, names: Map<number, Known>, now: number): void {
    const active = this.activeDict(interp, now);
    if (!active) return;
    const o = this.objects;
    for (const [k, thread] of o.dict(active, 4096).items) {
      const ident = o.long(k, 3);
      if (ident === undefined) continue;
      const nameObj = o.attribute(thread, '_name');
      if (nameObj && o.typeOf(nameObj) === o.types.str) {
        const { text, length } = o.str(nameObj, MAX_NAME_CHARS);
        names.set(Number(ident), { name: length > text.length ? `${text}…` : text, at: now, wait: NAME_TTL_MS });
      }
    }
  }

  private activeDict(interp: number, now: number): bigint | undefined {
    const cached = this.active.get(interp);
    if (cached && (cached.addr || now - cached.checkedAt < cached.wait)) return cached.addr || undefined;
    const o = this.objects;
    const modules = o.m.ptr(BigInt(interp + this.L.interp.modules));
    const threading = modules ? o.dictGet(modules, 'threading') : undefined;
    const addr = (threading && o.attribute(threading, '_active')) || 0n;
    this.active.set(interp, { addr, checkedAt: now, wait: addr ? 0 : nextWait(cached?.wait) });
    return addr || undefined;
  }
}
