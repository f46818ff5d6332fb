// Turns a stream of GIL samples into per-thread hold / take / drop figures, the fields of
// the reference tool's gilstat table. Pure: the sampler feeds it what it read, tests feed
// it synthetic samples.
//
// Threads are named by an opaque key (the sampler uses threading.get_ident()), still
// called `tstate` here. Each sample says who held the GIL at that instant, the interpreter's switch counter,
// and which threads were blocked waiting to take it (or, under FORCE_SWITCHING, waiting
// for a taker after dropping it). The time between two samples is split in half between
// them, so an episode (a run of samples with the same state) lasts from the midpoint
// before its first sample to the midpoint after its last one. Episodes shorter than the
// sampling period can be missed; the switch counter still counts every change of holder
// exactly, which the table reports beside the per-thread estimates.

export interface GilSample {
  /** CLOCK_MONOTONIC, nanoseconds */
  t: bigint;
  /** thread state holding the GIL, 0n when it is free */
  holder: bigint;
  /** gil->switch_number: increments whenever a different thread takes the GIL */
  switches: bigint;
  /** thread states blocked waiting to take the GIL */
  waiting: ReadonlySet<bigint>;
  /** thread states blocked in drop_gil waiting for the next holder to take it */
  dropping: ReadonlySet<bigint>;
}

export interface ThreadGilStats {
  tstate: bigint;
  takecnt: number;
  holdAll: bigint;
  takeAll: bigint;
  dropcnt: number;
  dropAll: bigint;
}

/** A hold or a wait longer than the threshold. */
export interface LongEpisode {
  kind: 'hold' | 'take';
  tstate: bigint;
  start: bigint;
}

export interface FinishedEpisode extends LongEpisode {
  durationNs: bigint;
}

export interface AccountingEvents {
  /** an episode went over its threshold just now (still going on: capture its stack now) */
  crossed: LongEpisode[];
  /** episodes that ended over their threshold */
  finished: FinishedEpisode[];
}

interface Episodes {
  stats: ThreadGilStats;
  holdSince?: bigint;
  takeSince?: bigint;
  dropSince?: bigint;
  holdCrossed: boolean;
  takeCrossed: boolean;
}

export interface AccountingOptions {
  /** report waits longer than this (ns); undefined: no reports */
  takeThresholdNs?: bigint;
  holdThresholdNs?: bigint;
}

export class GilAccounting {
  private readonly threads = new Map<bigint, Episodes>();
  private prev?: GilSample;
  /** first and latest sample times */
  start?: bigint;
  last?: bigint;
  samples = 0;
  /** changes of holder counted by the interpreter itself (exact) */
  switchesExact = 0n;
  /** changes of holder seen by sampling */
  switchesSeen = 0;
  /** time the GIL was seen free (no holder) */
  freeNs = 0n;
  /**
   * time between two samples across which the GIL changed hands: who held it when, inside
   * such a gap, is the midpoint guess. Every thread's hold time is right to within this
   * much (a stalled sampler makes it large: a whole hold can fall inside one gap).
   */
  uncertainNs = 0n;

  constructor(private readonly opts: AccountingOptions = {}) {}

  add(s: GilSample): AccountingEvents {
    const ev: AccountingEvents = { crossed: [], finished: [] };
    const prev = this.prev;
    this.samples++;
    this.last = s.t;
    if (!prev) {
      this.start = s.t;
      this.prev = s;
      // episodes begin at the first sample: what came before is not known
      if (s.holder !== 0n) this.beginHold(s.holder, s.t);
      for (const ts of s.waiting) this.entry(ts).takeSince = s.t;
      for (const ts of s.dropping) this.entry(ts).dropSince = s.t;
      return ev;
    }
    const mid = prev.t + (s.t - prev.t) / 2n;
    if (prev.holder === 0n) this.freeNs += mid - prev.t;
    if (s.holder === 0n) this.freeNs += s.t - mid;

    const switched = s.switches - prev.switches;
    if (switched > 0n) this.switchesExact += switched;
    if (switched > 0n || s.holder !== prev.holder) this.uncertainNs += s.t - prev.t;
    // same holder but the counter moved: someone else held it in between
    const sameHold = s.holder !== 0n && s.holder === prev.holder && switched === 0n;
    if (!sameHold) {
      if (prev.holder !== 0n) this.endHold(prev.holder, mid, ev);
      if (s.holder !== 0n) {
        this.beginHold(s.holder, mid);
        if (s.holder !== prev.holder) this.switchesSeen++;
      }
    }

    for (const ts of s.waiting) {
      const e = this.entry(ts);
      if (e.takeSince === undefined) e.takeSince = mid;
    }
    for (const [ts, e] of this.threads) {
      if (e.takeSince !== undefined && !s.waiting.has(ts)) {
        this.endTake(e, mid, ev);
        // it took the GIL and let it go again between two samples: an unseen hold
        if (s.holder !== ts) {
          e.stats.takecnt++;
          e.stats.dropcnt++;
        }
      }
    }
    for (const ts of s.dropping) {
      const e = this.entry(ts);
      if (e.dropSince === undefined) e.dropSince = mid;
    }
    for (const [ts, e] of this.threads) {
      if (e.dropSince !== undefined && !s.dropping.has(ts)) {
        e.stats.dropAll += mid - e.dropSince;
        e.dropSince = undefined;
      }
    }
    this.checkCrossings(s.t, ev);
    this.prev = s;
    return ev;
  }

  /** Cumulative figures per thread, ongoing episodes counted up to the latest sample. */
  snapshot(): ThreadGilStats[] {
    const now = this.last ?? 0n;
    return [...this.threads.values()].map((e) => ({
      ...e.stats,
      holdAll: e.stats.holdAll + (e.holdSince !== undefined ? now - e.holdSince : 0n),
      takeAll: e.stats.takeAll + (e.takeSince !== undefined ? now - e.takeSince : 0n),
      dropAll: e.stats.dropAll + (e.dropSince !== undefined ? now - e.dropSince : 0n),
    }));
  }

  /** Forgets a thread that has exited (its figures are returned for a last report). */
  retire(tstate: bigint): ThreadGilStats | undefined {
    const e = this.threads.get(tstate);
    if (!e) return undefined;
    const [stats] = this.snapshot().filter((x) => x.tstate === tstate);
    this.threads.delete(tstate);
    return stats;
  }

  private entry(ts: bigint): Episodes {
    let e = this.threads.get(ts);
    if (!e) {
      e = {
        stats: { tstate: ts, takecnt: 0, holdAll: 0n, takeAll: 0n, dropcnt: 0, dropAll: 0n },
        holdCrossed: false,
        takeCrossed: false,
      };
      this.threads.set(ts, e);
    }
    return e;
  }

  private beginHold(ts: bigint, at: bigint): void {
    const e = this.entry(ts);
    e.holdSince = at;
    e.holdCrossed = false;
    e.stats.takecnt++;
  }

  private endHold(ts: bigint, at: bigint, ev: AccountingEvents): void {
    const e = this.entry(ts);
    if (e.holdSince === undefined) return;
    const d = at - e.holdSince;
    e.stats.holdAll += d;
    e.stats.dropcnt++;
    if (this.opts.holdThresholdNs !== undefined && d > this.opts.holdThresholdNs) {
      ev.finished.push({ kind: 'hold', tstate: ts, start: e.holdSince, durationNs: d });
    }
    e.holdSince = undefined;
  }

  private endTake(e: Episodes, at: bigint, ev: AccountingEvents): void {
    const d = at - e.takeSince!;
    e.stats.takeAll += d;
    if (this.opts.takeThresholdNs !== undefined && d > this.opts.takeThresholdNs) {
      ev.finished.push({ kind: 'take', tstate: e.stats.tstate, start: e.takeSince!, durationNs: d });
    }
    e.takeSince = undefined;
    e.takeCrossed = false;
  }

  private checkCrossings(now: bigint, ev: AccountingEvents): void {
    const { holdThresholdNs: hold, takeThresholdNs: take } = this.opts;
    for (const e of this.threads.values()) {
      if (hold !== undefined && e.holdSince !== undefined && !e.holdCrossed && now - e.holdSince > hold) {
        e.holdCrossed = true;
        ev.crossed.push({ kind: 'hold', tstate: e.stats.tstate, start: e.holdSince });
      }
      if (take !== undefined && e.takeSince !== undefined && !e.takeCrossed && now - e.takeSince > take) {
        e.takeCrossed = true;
        ev.crossed.push({ kind: 'take', tstate: e.stats.tstate, start: e.takeSince });
      }
    }
  }
}
