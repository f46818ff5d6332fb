// When to take the next sample: a Poisson process (exponentially distributed gaps) so
// that sampling never locks step with periodic work in the target, scheduled against
// absolute deadlines so that the time spent sampling does not lower the rate. When the
// sampler falls far behind (a slow read, a stalled event loop) the missed instants are
// counted and skipped rather than taken in a burst.
import { setTimeout as sleep } from 'node:timers/promises';

export class PoissonTimer {
  readonly rate: number;
  /** sampling instants skipped because the sampler was too far behind */
  behind = 0;
  private deadline: number;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(rate: number, now: () => number = () => performance.now(), random: () => number = Math.random) {
    this.rate = rate;
    this.now = now;
    this.random = random;
    this.deadline = now();
  }

  /** mean gap in ms */
  get interval(): number {
    return 1000 / this.rate;
  }

  /** How far behind (ms) the sampler may run before it skips instants: a few mean gaps, and at least 100 ms. */
  get maxLag(): number {
    return Math.max(100, 10 * this.interval);
  }

  /** Moves to the next sampling instant and returns it (a performance.now() time). */
  advance(): number {
    // 1 - random() is in (0, 1]: the log is finite
    this.deadline += -Math.log(1 - this.random()) * this.interval;
    const late = this.now() - this.deadline;
    if (late > this.maxLag) {
      this.behind += Math.round(late / this.interval);
      this.deadline = this.now();
    }
    return this.deadline;
  }
}

const waitCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Sleeps until a performance.now() deadline. Gaps above 2 ms are one timer, which may
 * fire up to a millisecond late: harmless for instants that are random anyway (the
 * deadlines are absolute, so the rate is kept), and one wake-up per sample is the
 * sampler's main cost at low rates. Shorter gaps (high rates) yield to the event loop
 * once, so signals and input are handled, then wait out the rest precisely.
 */
export async function sleepUntil(deadline: number): Promise<void> {
  const rem = deadline - performance.now();
  if (rem > 2) return sleep(rem);
  await new Promise((r) => setImmediate(r));
  const left = deadline - performance.now();
  if (left > 0) Atomics.wait(waitCell, 0, 0, left);
}
