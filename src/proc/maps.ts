// /proc/PID/maps: which address ranges are mapped, with what permissions, from which file.
import { readFileSync } from 'node:fs';
import { procError } from './process.js';
import { lastAtOrBelow } from '../sorted.js';

export interface MapEntry {
  start: bigint;
  end: bigint;
  perms: string; // e.g. "r-xp"
  offset: bigint;
  dev: string;
  inode: number;
  path: string; // "" for anonymous mappings, "[heap]", "[stack]", ...
}

export function parseMaps(text: string): MapEntry[] {
  const out: MapEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    // 7f...-7f... r-xp 00001000 08:01 1234    /usr/lib/libpython3.11.so.1.0
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({
      start: BigInt('0x' + m[1]),
      end: BigInt('0x' + m[2]),
      perms: m[3],
      offset: BigInt('0x' + m[4]),
      dev: m[5],
      inode: Number(m[6]),
      path: m[7],
    });
  }
  return out;
}

export function readMaps(pid: number): MapEntry[] {
  try {
    return parseMaps(readFileSync(`/proc/${pid}/maps`, 'utf8'));
  } catch (e) {
    throw procError(pid, e, 'read the memory map of');
  }
}

/**
 * Sorted, merged view of the maps for fast "is this pointer mapped" checks. Addresses are
 * Numbers (user-space addresses on x86_64 have 47 bits, exact in a double): the reader asks
 * this for every read of a sample, and a binary search over BigInts was a fifth of a
 * sample's cost.
 */
export class AddressSpace {
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  constructor(maps: MapEntry[]) {
    const sorted = maps.filter((m) => m.perms[0] === 'r').sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const starts: number[] = [];
    const ends: number[] = [];
    for (const m of sorted) {
      const n = ends.length;
      if (n && ends[n - 1] === Number(m.start)) ends[n - 1] = Number(m.end);
      else {
        starts.push(Number(m.start));
        ends.push(Number(m.end));
      }
    }
    this.starts = Float64Array.from(starts);
    this.ends = Float64Array.from(ends);
  }
  /** true when [addr, addr+len) lies inside one readable mapping */
  contains(addr: number, len = 1): boolean {
    const i = lastAtOrBelow(this.starts, addr);
    return i >= 0 && addr + len <= this.ends[i];
  }
  /** the readable (merged) mapping holding addr, so a reader can widen a read without leaving it */
  region(addr: number): { start: number; end: number } | undefined {
    const i = lastAtOrBelow(this.starts, addr);
    return i >= 0 && addr < this.ends[i] ? { start: this.starts[i], end: this.ends[i] } : undefined;
  }
}
