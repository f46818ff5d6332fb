// The per-sample caches that keep the sampler cheap, against a fake target memory: the
// snapshot's block cache and arena, the sound-frame memo of the torn-sample check, and
// the profile's interning of shared frame objects. Each must save work without ever
// returning stale or torn data.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressSpace, type MapEntry } from '../../src/proc/maps.js';
import { MemoryReadError, type ProcessMemory } from '../../src/proc/memory.js';
import { i32At, SnapshotMemory, u32At, u64At } from '../../src/reader/snapshot.js';
import { StackProfile } from '../../src/sampler/profile.js';
import type { Frame, ThreadSample } from '../../src/sampler/types.js';
import { tornReason } from '../../src/sampler/validate.js';

// where nothing is mapped in this process either (an invalid address makes the snapshot read this process's maps)
const BASE = 0x1234_5678_0000;
const SIZE = 64 * 1024;

/** A target whose memory [BASE, BASE+SIZE) holds byte (addr + generation) & 0xff; counts reads. */
class FakeMemory {
  readonly pid = process.pid;
  readCount = 0;
  generation = 0;
  readInto(addr: bigint | number, buf: Buffer, off = 0, len = buf.length - off): Buffer {
    const a = Number(addr);
    if (a < BASE || a + len > BASE + SIZE) throw new MemoryReadError(a, len, 'unmapped');
    this.readCount++;
    for (let i = 0; i < len; i++) buf[off + i] = (a + i + this.generation) & 0xff;
    return buf;
  }
}

function snapshot(): { snap: SnapshotMemory; mem: FakeMemory } {
  const mem = new FakeMemory();
  const map: MapEntry = { start: BigInt(BASE), end: BigInt(BASE + SIZE), perms: 'rw-p', offset: 0n, dev: '00:00', inode: 0, path: '' };
  return { snap: new SnapshotMemory(mem as unknown as ProcessMemory, new AddressSpace([map])), mem };
}

describe('SnapshotMemory', () => {
  test('reads within one cached block cost one read; a new sample reads again', () => {
    const { snap, mem } = snapshot();
    snap.begin();
    const a = snap.read(BigInt(BASE + 100), 8);
    const b = snap.read(BigInt(BASE + 200), 16);
    assert.equal(mem.readCount, 1);
    assert.equal(a[0], (BASE + 100) & 0xff);
    assert.equal(b[15], (BASE + 215) & 0xff);
    snap.begin();
    mem.generation = 1;
    assert.equal(snap.read(BigInt(BASE + 100), 1)[0], (BASE + 101) & 0xff, 'a new sample sees the target afresh');
    assert.equal(mem.readCount, 2);
  });

  test('a read across a block boundary and a prefetch below are one read, clipped to the mapping', () => {
    const { snap, mem } = snapshot();
    snap.begin();
    const seg = snap.segment(BASE + 3 * 4096 + 4090, 16, 16 * 1024);
    assert.equal(mem.readCount, 1);
    assert.equal(seg.base, BASE, 'the prefetch stops at the start of the mapping');
    assert.equal(seg.end, BASE + 5 * 4096);
    snap.read(BigInt(BASE + 8), 8);
    assert.equal(mem.readCount, 1, 'the prefetched bytes serve later reads');
  });

  test('forget() re-reads the target but keeps the bytes handed out earlier in the sample', () => {
    const { snap, mem } = snapshot();
    snap.begin();
    const before = snap.read(BigInt(BASE + 64), 4);
    const copy = Buffer.from(before);
    mem.generation = 7;
    snap.forget();
    const after = snap.read(BigInt(BASE + 64), 4);
    assert.equal(after[0], (BASE + 64 + 7) & 0xff);
    assert.deepEqual(before, copy, 'a re-read within a sample does not overwrite earlier bytes');
  });

  test('a sample larger than the arena still reads correctly', () => {
    const { snap } = snapshot();
    snap.begin();
    // 64 KiB per read, 40 different "samples" worth of reads without begin(): beyond the 1 MiB arena
    const bufs: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      snap.forget();
      bufs.push(snap.read(BigInt(BASE), SIZE));
    }
    for (const b of bufs) assert.equal(b[SIZE - 1], (BASE + SIZE - 1) & 0xff);
  });

  test('unmapped, negative, huge and non-integer addresses are invalid, never read', () => {
    const { snap, mem } = snapshot();
    snap.begin();
    for (const addr of [0, -8, BASE - 8, BASE + SIZE, 2 ** 60, BASE + 0.5, Number.NaN]) {
      assert.equal(snap.validAt(addr, 8), false, String(addr));
      assert.throws(() => snap.ptrAt(addr), MemoryReadError, String(addr));
    }
    assert.equal(mem.readCount, 0);
  });

  test('u64At reads 47-bit addresses exactly', () => {
    const buf = Buffer.alloc(8);
    for (const v of [0n, 1n, 0x7fff_ffff_fff8n, 0x5555_dead_beefn, 0x7f00_0000_1000n]) {
      buf.writeBigUInt64LE(v);
      assert.equal(u64At(buf, 0), Number(v));
    }
  });
});

const frozen = (name: string, line: number, filename = '/app/a.py'): Frame => Object.freeze({ name, filename, line, firstLine: 1 });
const threadOf = (frames: Frame[]): ThreadSample => ({ threadId: 1, holdsGil: true, active: true, frames });

describe('integers put together from bytes', () => {
  test("u32At, i32At and u64At read what Buffer's own readers read, at any offset", () => {
    const buf = Buffer.alloc(4096);
    // every byte value in every position, and the edge values
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 193 + 7) & 0xff;
    buf.writeUInt32LE(0xffffffff, 64);
    buf.writeInt32LE(-1, 128);
    buf.writeInt32LE(-0x80000000, 136);
    buf.writeBigUInt64LE(0x7fff_ffff_f000n, 200); // the top of x86_64 user space
    for (let off = 0; off + 8 <= buf.length; off++) {
      assert.equal(u32At(buf, off), buf.readUInt32LE(off), `u32 at ${off}`);
      assert.equal(i32At(buf, off), buf.readInt32LE(off), `i32 at ${off}`);
      const big = buf.readBigUInt64LE(off);
      // exact below 2^53 (addresses), the nearest double above
      assert.equal(u64At(buf, off), Number(big), `u64 at ${off}`);
    }
    assert.equal(u64At(buf, 200), 0x7fff_ffff_f000);
  });
});

describe('torn-sample check with shared frames', () => {
  test('a frozen frame found sound is trusted again; a bad one is rejected every time', () => {
    const good = frozen('work', 5);
    const bad = frozen('wo\u0001rk', 5);
    assert.equal(tornReason([threadOf([good])]), undefined);
    assert.equal(tornReason([threadOf([good])]), undefined);
    for (let i = 0; i < 2; i++) assert.equal(tornReason([threadOf([good, bad])]), 'unreadable function name');
    assert.equal(tornReason([threadOf([frozen('x', -1)])]), 'impossible line number');
  });

  test('a mutable frame is checked every time (it may have changed)', () => {
    const f: Frame = { name: 'work', filename: '/app/a.py', line: 5 };
    assert.equal(tornReason([threadOf([f])]), undefined);
    f.filename = '';
    assert.equal(tornReason([threadOf([f])]), 'unreadable file name');
  });
});

describe('StackProfile with shared frames', () => {
  test('shared, equal and mutated frames intern by their content', () => {
    const p = new StackProfile();
    const work5 = frozen('work', 5);
    const main = frozen('main', 20);
    const mutable: Frame = { name: 'work', filename: '/app/a.py', line: 5 };
    for (let i = 0; i < 3; i++) p.add({ pid: 1, thread: threadOf([work5, main]) });
    p.add({ pid: 1, thread: threadOf([frozen('work', 5), main]) });
    p.add({ pid: 1, thread: threadOf([mutable, main]) });
    mutable.line = 6;
    p.add({ pid: 1, thread: threadOf([mutable, main]) });
    p.add({ pid: 1, thread: threadOf([main]) });
    assert.deepEqual(
      p.stacks.map((s) => [s.frames.map((f) => p.label(f)).join(';'), s.count]),
      [
        ['main (/app/a.py:20);work (/app/a.py:5)', 5],
        ['main (/app/a.py:20);work (/app/a.py:6)', 1],
        ['main (/app/a.py:20)', 1],
      ],
    );
    assert.equal(p.frames.length, 3);
  });
});
