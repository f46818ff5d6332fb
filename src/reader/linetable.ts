// Line numbers from a code object's line table, one decoder per format
// (docs/cpython-layouts.md §7). Each takes the table bytes, co_firstlineno and the offset
// of the instruction being run, and returns its line (or co_firstlineno when the
// table says nothing about it).
import type { Layout } from './layouts/types.js';

/**
 * 3.8/3.9 co_lnotab: (bytecode delta, line delta) byte pairs; `lastiBytes` is f_lasti, a
 * byte offset. The line delta is signed from 3.6 on.
 */
export function lnotabLine(table: Buffer, firstlineno: number, lastiBytes: number): number {
  let line = firstlineno;
  let addr = 0;
  for (let i = 0; i + 1 < table.length; i += 2) {
    addr += table[i];
    if (addr > lastiBytes) break;
    line += (table[i + 1] << 24) >> 24;
  }
  return line;
}

/**
 * 3.10 co_linetable (PEP 626): (start delta in bytes, line delta) pairs, where a line
 * delta of -128 means "no line". `lastiUnits` is f_lasti, counted in 2-byte code units.
 */
export function linetable310Line(table: Buffer, firstlineno: number, lastiUnits: number): number {
  const target = lastiUnits * 2;
  let line = firstlineno;
  let end = 0;
  for (let i = 0; i + 1 < table.length; i += 2) {
    const start = end;
    end += table[i];
    const delta = (table[i + 1] << 24) >> 24;
    if (delta !== -128) line += delta;
    if (start <= target && target < end) return delta === -128 ? firstlineno : line;
  }
  return line;
}

/**
 * 3.11+ location table (Objects/locations.md): entries of one header byte (bit 7 set,
 * kind in bits 3-6, length-1 in bits 0-2, in code units) and a kind-dependent payload.
 * `lastiUnits` is the index of the instruction in code units.
 */
export function locationTableLine(table: Buffer, firstlineno: number, lastiUnits: number): number {
  let line = firstlineno;
  let addr = 0;
  let i = 0;
  const varint = (): number => {
    let shift = 0;
    let v = 0;
    while (i < table.length) {
      const b = table[i++];
      v |= (b & 63) << shift;
      shift += 6;
      if (!(b & 64)) break;
    }
    return v;
  };
  const svarint = (): number => {
    const v = varint();
    return v & 1 ? -(v >>> 1) : v >>> 1;
  };
  while (i < table.length) {
    const head = table[i++];
    const kind = (head >> 3) & 15;
    const len = (head & 7) + 1;
    let delta = 0;
    let hasLine = true;
    if (kind === 15) hasLine = false;
    else if (kind === 14) {
      delta = svarint();
      varint(); // end line delta
      varint(); // column + 1
      varint(); // end column + 1
    } else if (kind === 13) delta = svarint();
    else if (kind >= 10) {
      delta = kind - 10;
      i += 2; // start and end column
    } else i += 1; // column byte
    line += delta;
    if (addr <= lastiUnits && lastiUnits < addr + len) return hasLine ? line : firstlineno;
    addr += len;
  }
  return line;
}

/** The line for an instruction offset in the units the version's frames record. */
export function lineFor(format: Layout['code']['lineTableFormat'], table: Buffer, firstlineno: number, lasti: number): number {
  if (lasti < 0) return firstlineno; // frame not started yet
  switch (format) {
    case 'lnotab':
      return lnotabLine(table, firstlineno, lasti);
    case 'linetable':
      return linetable310Line(table, firstlineno, lasti);
    case 'locations':
      return locationTableLine(table, firstlineno, lasti);
  }
}
