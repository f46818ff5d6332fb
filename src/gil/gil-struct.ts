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
// Where the struct lives is the reader's business (per version, see GilProbe); what it
// holds is decoded here, from one read of the whole struct per sample.

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
