// Memory of the target as seen by one sample: reads go through 4 KiB blocks cached for
// the duration of the sample, so neighbouring structs (a thread state and its frames,
// the frames of one data-stack chunk, small objects allocated together) cost one read
// syscall, and everything read within a block is mutually consistent. Pointers are
// checked against the target's mappings before they are followed, so a torn read
// yields "unreadable", not a read of garbage.
import { AddressSpace, readMaps } from '../proc/maps.js';
import { MemoryReadError, type ProcessMemory } from '../proc/memory.js';

const BLOCK_SHIFT = 12n;
const BLOCK = 1n << BLOCK_SHIFT;

interface Segment {
  base: bigint;
  buf: Buffer;
}

export class SnapshotMemory {
  readonly mem: ProcessMemory;
  private space: AddressSpace;
  private mapsRefreshed = false;
  private blocks = new Map<number, Segment>();

  constructor(mem: ProcessMemory, space: AddressSpace) {
    this.mem = mem;
    this.space = space;
  }

  get readCount(): number {
    return this.mem.readCount;
  }

  /** Starts a new sample: forgets every cached block. */
  begin(): void {
    this.blocks.clear();
    this.mapsRefreshed = false;
  }

  /** True when [addr, addr+len) is mapped readable (re-reading the maps once per sample if not). */
  valid(addr: bigint, len = 1): boolean {
    if (addr <= 0n) return false;
    if (this.space.contains(addr, BigInt(len))) return true;
    if (this.mapsRefreshed) return false;
    // the target may have mapped memory since we last looked (a new thread stack, arena)
    this.mapsRefreshed = true;
    this.space = new AddressSpace(readMaps(this.mem.pid));
    return this.space.contains(addr, BigInt(len));
  }

  /**
   * len bytes at addr. `before`/`after` widen the read on a cache miss (clipped to the
   * mapping), for data known to lie next to each other, e.g. older frames of a data stack.
   */
  read(addr: bigint, len: number, before = 0, after = 0): Buffer {
    if (!this.valid(addr, len)) throw new MemoryReadError(addr, len, 'not mapped');
    const end = addr + BigInt(len);
    const first = Number(addr >> BLOCK_SHIFT);
    const last = Number((end - 1n) >> BLOCK_SHIFT);
    const seg = this.blocks.get(first);
    if (seg && seg === this.blocks.get(last)) {
      const off = Number(addr - seg.base);
      return seg.buf.subarray(off, off + len);
    }
    const region = this.space.region(addr)!;
    let start = ((addr - BigInt(before)) >> BLOCK_SHIFT) << BLOCK_SHIFT;
    let stop = (((end + BigInt(after) + BLOCK - 1n) >> BLOCK_SHIFT) << BLOCK_SHIFT);
    if (start < region.start) start = region.start;
    if (stop > region.end) stop = region.end;
    const buf = this.mem.read(start, Number(stop - start));
    const fetched: Segment = { base: start, buf };
    for (let b = Number(start >> BLOCK_SHIFT); b <= Number((stop - 1n) >> BLOCK_SHIFT); b++) this.blocks.set(b, fetched);
    const off = Number(addr - start);
    return buf.subarray(off, off + len);
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
    const region = this.valid(addr) ? this.space.region(addr) : undefined;
    const len = region ? Math.min(max, Number(region.end - addr)) : max;
    const buf = this.read(addr, len);
    const nul = buf.indexOf(0);
    return buf.toString('utf8', 0, nul < 0 ? len : nul);
  }
}
