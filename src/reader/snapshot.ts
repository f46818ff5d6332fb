// Memory of the target as seen by one sample: reads go through 4 KiB blocks cached for
// the duration of the sample, so neighbouring structs (a thread state and its frames,
// the frames of one data-stack chunk, small objects allocated together) cost one read
// syscall, and everything read within a block is mutually consistent. Pointers are
// checked against the target's mappings before they are followed, so a torn read
// yields "unreadable", not a read of garbage.
//
// The sampler calls this hundreds of times a second, so the hot path avoids BigInt and
// allocation: addresses are Numbers (user-space addresses are below 2^47, exact as a
// double; never use 32-bit bitwise operators on them), and the bytes of one sample are
// copied into one reusable arena rather than a fresh Buffer per read. The BigInt methods
// remain for the colder readers (objects, thread names, locals).
import { AddressSpace, readMaps } from '../proc/maps.js';
import { MemoryReadError, type ProcessMemory } from '../proc/memory.js';

const BLOCK = 4096;
/** how many of a sample's latest segments a lookup scans (cached) */
const SCANNED = 32;
/** Bytes one sample may copy into the arena; a larger sample falls back to fresh Buffers. */
const ARENA_BYTES = 1 << 20;
/**
 * The arena's first size: a one-shot dump copies a few tens of KB, and making the whole
 * arena cost a cold start 0.2 ms; a sample that overflows it makes the next one full size.
 */
const FIRST_ARENA_BYTES = 64 << 10;
const TWO_32 = 2 ** 32;

/** The bytes [base, end) of the target, held in buf from offset at. */
export interface Segment {
  base: number;
  end: number;
  buf: Buffer;
  at: number;
}

// The integers of the hot path are put together from bytes rather than read with Buffer's
// readUInt32LE/readInt32LE: those check their offset through a wrapper that, in V8's
// baseline tier (the one `record` runs in at low rates), allocates an array of its
// arguments at every call, some 140 calls a sample. A byte past the end reads as
// undefined, giving NaN rather than an error: every caller reads fields inside the bytes
// it asked for (a struct's size, a segment holding [addr, addr+len)).

/** A little-endian u32 at off. */
export function u32At(buf: Uint8Array, off: number): number {
  // three bytes with `|` stay below 2^24; the fourth is added without a 32-bit operator
  return (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16)) + buf[off + 3] * 0x1000000;
}

/** A little-endian i32 at off. */
export function i32At(buf: Uint8Array, off: number): number {
  return buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24);
}

/** A little-endian u64 as a Number: exact for addresses (below 2^53), approximate for garbage. */
export function u64At(buf: Uint8Array, off: number): number {
  return u32At(buf, off) + u32At(buf, off + 4) * TWO_32;
}

export class SnapshotMemory {
  readonly mem: ProcessMemory;
  private space: AddressSpace;
  private mapsRefreshed = false;
  /**
   * the segments read in this sample, newest last: a handful (a thread state, a data-stack
   * chunk, the code objects' blocks), so a scan beats a map by block, whose keys (block
   * numbers above 2^31) and regrowth after each clear allocated at every sample
   */
  private readonly segs: Segment[] = [];
  private nsegs = 0;
  /** the segment of the last hit: consecutive reads mostly fall into the same one */
  private last: Segment | undefined;
  private arena = Buffer.allocUnsafe(FIRST_ARENA_BYTES);
  private arenaOverflowed = false;
  private arenaUsed = 0;

  constructor(mem: ProcessMemory, space: AddressSpace) {
    this.mem = mem;
    this.space = space;
  }

  get readCount(): number {
    return this.mem.readCount;
  }

  /** Starts a new sample: forgets every cached block and reuses the arena. */
  begin(): void {
    this.forget();
    if (this.arenaOverflowed && this.arena.length < ARENA_BYTES) this.arena = Buffer.allocUnsafe(ARENA_BYTES);
    this.arenaOverflowed = false;
    this.arenaUsed = 0;
    this.mapsRefreshed = false;
  }

  /**
   * Forgets the cached blocks (the next reads see the target afresh) but keeps the bytes
   * already handed out valid until the next begin(): a re-read within one sample.
   */
  forget(): void {
    this.nsegs = 0;
    this.last = undefined;
  }

  /** True when [addr, addr+len) is mapped readable (re-reading the maps once per sample if not). */
  valid(addr: bigint, len = 1): boolean {
    return this.validAt(Number(addr), len);
  }

  validAt(addr: number, len = 1): boolean {
    // a Number read from a torn struct may be anything (not even an integer)
    if (!(addr > 0 && Number.isSafeInteger(addr))) return false;
    if (this.cached(addr, len)) return true;
    if (this.space.contains(addr, len)) return true;
    if (this.mapsRefreshed) return false;
    // the target may have mapped memory since we last looked (a new thread stack, arena)
    this.refreshMaps();
    return this.space.contains(addr, len);
  }

  private refreshMaps(): void {
    this.mapsRefreshed = true;
    this.space = new AddressSpace(readMaps(this.mem.pid));
  }

  /** The cached segment holding [addr, addr+len), if any. */
  private cached(addr: number, len: number): Segment | undefined {
    const last = this.last;
    const end = addr + len;
    if (last !== undefined && addr >= last.base && end <= last.end) return last;
    // newest first: where two reads overlap, the later one's bytes count; only the last
    // SCANNED (a sample reads fewer; a walk of many objects re-reads an older page instead)
    const oldest = Math.max(0, this.nsegs - SCANNED);
    for (let i = this.nsegs - 1; i >= oldest; i--) {
      const seg = this.segs[i];
      if (addr >= seg.base && end <= seg.end) {
        this.last = seg;
        return seg;
      }
    }
    return undefined;
  }

  /**
   * The segment holding [addr, addr+len), read on a miss. `before` widens the read
   * (clipped to the mapping) for data known to lie just below, e.g. older frames of a
   * data stack.
   */
  segment(addr: number, len: number, before = 0): Segment {
    return this.cached(addr, len) ?? this.fetch(addr, len, before);
  }

  private fetch(addr: number, len: number, before: number): Segment {
    if (!this.validAt(addr, len)) throw new MemoryReadError(addr, len, 'not mapped');
    try {
      return this.readSegment(addr, len, before);
    } catch (e) {
      if (!(e instanceof MemoryReadError)) throw e;
      // The region the read was widened to may be stale: the kernel merges neighbouring
      // anonymous mappings into one line of /proc/PID/maps, and one of them (a thread's
      // stack, a data-stack chunk) may have been freed since. Look again (once a sample),
      // read only what was asked for; if that fails too, the sample tore.
      if (!this.mapsRefreshed) this.refreshMaps();
      if (!this.space.contains(addr, len)) throw e;
      return this.readSegment(addr, len, 0);
    }
  }

  private readSegment(addr: number, len: number, before: number): Segment {
    const region = this.space.region(addr)!;
    const start = Math.max(region.start, Math.floor((addr - before) / BLOCK) * BLOCK);
    const stop = Math.min(region.end, Math.ceil((addr + len) / BLOCK) * BLOCK);
    const size = stop - start;
    let buf = this.arena;
    let at = this.arenaUsed;
    if (at + size > buf.length) {
      buf = Buffer.allocUnsafe(size);
      at = 0;
      this.arenaOverflowed = true;
    }
    this.mem.readInto(start, buf, at, size);
    if (buf === this.arena) this.arenaUsed += size;
    const seg: Segment = { base: start, end: stop, buf, at };
    this.segs[this.nsegs++] = seg;
    this.last = seg;
    return seg;
  }

  /** len bytes at addr, valid until the next begin(). */
  read(addr: bigint, len: number, before = 0): Buffer {
    const a = Number(addr);
    const seg = this.segment(a, len, before);
    const off = seg.at + a - seg.base;
    return seg.buf.subarray(off, off + len);
  }

  /** readAt with a Number address (the sampler's walk of the thread list). */
  readAt(addr: number, len: number): Buffer {
    const seg = this.segment(addr, len);
    const off = seg.at + addr - seg.base;
    return seg.buf.subarray(off, off + len);
  }

  /** A signed 64-bit integer at addr, as a Number: exact below 2^53 (ids, counts). */
  i64At(addr: number): number {
    const seg = this.segment(addr, 8);
    const off = seg.at + addr - seg.base;
    return u32At(seg.buf, off) + i32At(seg.buf, off + 4) * TWO_32;
  }

  i32At(addr: number): number {
    const seg = this.segment(addr, 4);
    return i32At(seg.buf, seg.at + addr - seg.base);
  }

  /** A pointer at addr, as a Number (see u64At). */
  ptrAt(addr: number): number {
    const seg = this.segment(addr, 8);
    return u64At(seg.buf, seg.at + addr - seg.base);
  }

  ptr(addr: bigint): bigint {
    return this.read(addr, 8).readBigUInt64LE(0);
  }
  i64(addr: bigint): bigint {
    return this.read(addr, 8).readBigInt64LE(0);
  }
  i32(addr: bigint): number {
    return this.read(addr, 4).readInt32LE(0);
  }
  u32(addr: bigint): number {
    return this.read(addr, 4).readUInt32LE(0);
  }
  u8(addr: bigint): number {
    return this.read(addr, 1)[0];
  }
  /** A NUL-terminated string of at most max bytes (C strings such as tp_name). */
  cstring(addr: bigint, max = 256): string {
    const region = this.valid(addr) ? this.space.region(Number(addr)) : undefined;
    const len = region ? Math.min(max, region.end - Number(addr)) : max;
    const buf = this.read(addr, len);
    const nul = buf.indexOf(0);
    return buf.toString('utf8', 0, nul < 0 ? len : nul);
  }
}
