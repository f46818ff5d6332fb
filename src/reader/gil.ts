// The interpreter's GIL as gilstat reads it: struct _gil_runtime_state
// (Include/internal/pycore_gil.h, Python/ceval_gil.h), the same shape in 3.8-3.13 for the
// default (GIL) build on x86_64 glibc:
//   unsigned long interval;        @0   switch interval in microseconds
//   PyThreadState *last_holder;    @8
//   int locked;                    @16  (-1 before the GIL exists)
//   unsigned long switch_number;   @24  incremented when a different thread takes it
//   pthread_cond_t cond;           @32  threads waiting to take the GIL sleep here
//   pthread_mutex_t mutex;         @80  guards the fields above
//   pthread_cond_t switch_cond;    @120 FORCE_SWITCHING: a dropper waits here for a taker
//   pthread_mutex_t switch_mutex;  @168
// Where it lives depends on the version (gilAddress); gilstat decodes what it holds from
// one read of the whole struct per sample, and the attach asks whether it is taken.
import { NotPythonError } from '../errors.js';
import type { ProcessMemory } from '../proc/memory.js';
import { DEBUG_OFFSETS_MAX_SIZE } from './layouts/debug-offsets.js';
import { layoutFor, type Layout } from './layouts/index.js';
import type { PythonTarget } from './locate.js';

export const GIL_STRUCT_SIZE = 208;
const LAST_HOLDER = 0x08;
const LOCKED = 0x10;
const SWITCH_NUMBER = 0x18;
const COND = 0x20;
const SWITCH_COND = 0x78;
const END = GIL_STRUCT_SIZE;
/** glibc >= 2.25 pthread_cond_t.__wrefs: waiters x 8 (plus flag bits 0-2) */
const COND_WREFS = 36;

export interface GilState {
  /** the holding thread state, 0n when the GIL is free */
  holder: bigint;
  locked: boolean;
  switches: bigint;
  /** switch interval in microseconds: sys.getswitchinterval() * 1e6 */
  intervalUs: bigint;
  /** threads sleeping on the GIL's condition variable (undefined: not a glibc layout we know) */
  condWaiters?: number;
  /** droppers sleeping on switch_cond, waiting for a taker (same caveat) */
  switchWaiters?: number;
}

export function decodeGil(buf: Buffer): GilState {
  const locked = buf.readInt32LE(LOCKED);
  const lastHolder = buf.readBigUInt64LE(LAST_HOLDER);
  const wrefs = buf.readUInt32LE(COND + COND_WREFS) >>> 3;
  const switchWrefs = buf.readUInt32LE(SWITCH_COND + COND_WREFS) >>> 3;
  return {
    holder: locked === 1 ? lastHolder : 0n,
    locked: locked === 1,
    switches: buf.readBigUInt64LE(SWITCH_NUMBER),
    intervalUs: buf.readBigUInt64LE(0),
    // anything huge means the layout is not the one described above
    condWaiters: wrefs < 100000 ? wrefs : undefined,
    switchWaiters: switchWrefs < 100000 ? switchWrefs : undefined,
  };
}

/** A plausible GIL: an initialized lock flag and a switch interval sys.setswitchinterval could set. */
export function looksLikeGil(s: GilState, rawLocked: number): boolean {
  return (rawLocked === 0 || rawLocked === 1) && s.intervalUs > 0n && s.intervalUs < 10_000_000_000n;
}

export function rawLocked(buf: Buffer): number {
  return buf.readInt32LE(LOCKED);
}

/** What a thread blocked in futex() on this address is doing with the GIL. */
export function futexRole(gilAddr: bigint, uaddr: bigint): 'take' | 'drop' | undefined {
  const off = uaddr - gilAddr;
  if (off >= BigInt(COND) && off < BigInt(SWITCH_COND)) return 'take'; // cond or mutex
  if (off >= BigInt(SWITCH_COND) && off < BigInt(END)) return 'drop';
  return undefined;
}

// Up to 3.11 the GIL is _PyRuntime.ceval.gil, the last member of ceval, and gilstate
// follows it: {int check_enabled; PyThreadState *tstate_current; ...}. So the GIL struct
// ends 8 bytes before tstate_current (3.8: gil @1152, tstate_current @1368; 3.9/3.10:
// 352/568; 3.11: 360/576, docs/cpython-layouts.md §4). Checked against the struct's content.
const GIL_BEFORE_TSTATE_CURRENT = GIL_STRUCT_SIZE + 8;

/** The address of the main interpreter's GIL struct. */
export function gilAddress(mem: ProcessMemory, l: Layout, pyRuntime: bigint): bigint {
  const interp = mem.ptr(pyRuntime + BigInt(l.runtime.interpretersHead));
  if (l.interp.cevalGil !== undefined) return mem.ptr(interp + BigInt(l.interp.cevalGil));
  if (l.runtime.tstateCurrent !== undefined) return pyRuntime + BigInt(l.runtime.tstateCurrent - GIL_BEFORE_TSTATE_CURRENT);
  throw new NotPythonError(`gilstat: no GIL location known for this Python (layout ${l.source})`);
}

/**
 * Is the GIL taken right now? true: some thread holds it; false: free; undefined: it
 * could not be read. (The direct injection starts waiting for the GIL only when it is
 * free or its holder runs, docs/attach.md.)
 */
export function gilLocked(target: PythonTarget, mem: ProcessMemory): boolean | undefined {
  try {
    const l = layoutFor(target.version, target.version.minor >= 13 ? mem.read(target.pyRuntime, DEBUG_OFFSETS_MAX_SIZE) : undefined);
    // up to 3.11 the runtime's current thread state is non-NULL exactly while the GIL is held
    if (l.runtime.tstateCurrent !== undefined) return mem.ptr(target.pyRuntime + BigInt(l.runtime.tstateCurrent)) !== 0n;
    // 3.12+: ceval.gil points at the _gil_runtime_state in use, which has a `locked` flag
    if (l.interp.cevalGil !== undefined && l.gil) {
      const interp = mem.ptr(target.pyRuntime + BigInt(l.runtime.interpretersHead));
      const gil = mem.ptr(interp + BigInt(l.interp.cevalGil));
      return mem.i32(gil + BigInt(l.gil.locked)) !== 0;
    }
  } catch {
    // an unreadable layout leaves the decision to the other checks
  }
  return undefined;
}
