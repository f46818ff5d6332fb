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

/** Sorted, merged view of the maps for fast "is this pointer mapped" checks. */
export class AddressSpace {
  private readonly starts: bigint[];
  private readonly ends: bigint[];
  constructor(maps: MapEntry[]) {
    const sorted = maps.filter((m) => m.perms[0] === 'r').sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    this.starts = [];
    this.ends = [];
    for (const m of sorted) {
      const n = this.ends.length;
      if (n && this.ends[n - 1] === m.start) this.ends[n - 1] = m.end;
      else {
        this.starts.push(m.start);
        this.ends.push(m.end);
      }
    }
  }
  /** true when [addr, addr+len) lies inside one readable mapping */
  contains(addr: bigint, len = 1n): boolean {
    const i = this.indexOf(addr);
    return i >= 0 && addr + len <= this.ends[i];
  }
  /** the readable (merged) mapping holding addr, so a reader can widen a read without leaving it */
  region(addr: bigint): { start: bigint; end: bigint } | undefined {
    const i = this.indexOf(addr);
    return i >= 0 && addr < this.ends[i] ? { start: this.starts[i], end: this.ends[i] } : undefined;
  }
  private indexOf(addr: bigint): number {
    return lastAtOrBelow(this.starts, addr);
  }
}
