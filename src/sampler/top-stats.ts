// The numbers `top` shows: per sampling window (reset at each refresh) the GIL and
// active shares and each function's own/total share; cumulated over the whole run the
// own/total time. A function is counted once per stack for its total, so recursion is
// not counted twice (docs/cpython-layouts.md §9).
import type { Tick } from './sampler.js';

export interface FunctionRow {
  name: string;
  /** short file name */
  file: string;
  /** share of this window's sampling instants where the function was the innermost frame (can exceed 100% summed over threads) */
  ownPct: number;
  totalPct: number;
  /** seconds, over the whole run */
  ownTime: number;
  totalTime: number;
}

export type SortKey = 'ownPct' | 'totalPct' | 'ownTime' | 'totalTime';
export const SORT_KEYS: SortKey[] = ['ownPct', 'totalPct', 'ownTime', 'totalTime'];

/** Descending by the column; ties by total time, then name, so that equal rows never swap places between redraws. */
export function byColumn(sort: SortKey): (a: FunctionRow, b: FunctionRow) => number {
  return (a, b) => b[sort] - a[sort] || b.totalTime - a.totalTime || a.name.localeCompare(b.name);
}

interface Counts {
  name: string;
  file: string;
  own: number;
  total: number;
  ownAll: number;
  totalAll: number;
}

export interface WindowSummary {
  ticks: number;
  /** % of instants × threads holding the GIL */
  gilPct: number;
  /** summed over threads: 300% means three threads busy on average */
  activePct: number;
  /** Python threads seen at the last instant */
  threads: number;
}

export class TopStats {
  readonly rate: number;
  totalTicks = 0;
  private windowTicks = 0;
  private gil = 0;
  private active = 0;
  private lastThreads = 0;
  private readonly fns = new Map<string, Counts>();
  private readonly shorten: (file: string) => string;

  constructor(rate: number, shorten: (file: string) => string = (f) => f) {
    this.rate = rate;
    this.shorten = shorten;
  }

  add(tick: Tick): void {
    this.totalTicks++;
    this.windowTicks++;
    this.lastThreads = tick.read.length;
    for (const s of tick.kept) {
      if (s.thread.holdsGil) this.gil++;
      if (s.thread.active) this.active++;
      const seen = new Set<Counts>();
      s.thread.frames.forEach((f, depth) => {
        // a native function is shown with its module where a Python one has its file, and its
        // source file when known; a row is a function, so neither shows a line
        const file =
          f.kind === 'native'
            ? f.filename
              ? `${f.filename.slice(f.filename.lastIndexOf('/') + 1)}, ${f.module}`
              : (f.module ?? '')
            : f.filename;
        const key = `${f.name}\0${file}`;
        let c = this.fns.get(key);
        if (!c)
          this.fns.set(
            key,
            (c = { name: f.name, file: f.kind === 'native' ? file : this.shorten(file), own: 0, total: 0, ownAll: 0, totalAll: 0 }),
          );
        if (depth === 0) {
          c.own++;
          c.ownAll++;
        }
        if (!seen.has(c)) {
          seen.add(c);
          c.total++;
          c.totalAll++;
        }
      });
    }
  }

  summary(): WindowSummary {
    const n = this.windowTicks || 1;
    return { ticks: this.windowTicks, gilPct: (100 * this.gil) / n, activePct: (100 * this.active) / n, threads: this.lastThreads };
  }

  rows(sort: SortKey, limit = Infinity): FunctionRow[] {
    const n = this.windowTicks || 1;
    const rows: FunctionRow[] = [];
    for (const c of this.fns.values()) {
      if (c.totalAll === 0) continue;
      rows.push({
        name: c.name,
        file: c.file,
        ownPct: (100 * c.own) / n,
        totalPct: (100 * c.total) / n,
        ownTime: c.ownAll / this.rate,
        totalTime: c.totalAll / this.rate,
      });
    }
    rows.sort(byColumn(sort));
    return rows.slice(0, limit);
  }

  /** Starts a new window (after each refresh of the display). */
  resetWindow(): void {
    this.windowTicks = 0;
    this.gil = 0;
    this.active = 0;
    for (const c of this.fns.values()) {
      c.own = 0;
      c.total = 0;
    }
  }
}
