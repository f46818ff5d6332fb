// When to take the next sample: a Poisson process (exponentially distributed gaps) so
// that sampling never locks step with periodic work in the target, scheduled against
// absolute deadlines so that the time spent sampling does not lower the rate. When the
// sampler falls far behind (a slow read, a stalled event loop) the missed instants are
// counted and skipped rather than taken in a burst.
import { setTimeout as sleep } from 'node:timers/promises';
import { nowMs } from '../clock.js';

export class PoissonTimer {
  readonly rate: number;
  /** sampling instants skipped because the sampler was too far behind */
  behind = 0;
  private deadline: number;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(rate: number, now: () => number = () => nowMs(), random: () => number = Math.random) {
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

  /** Moves to the next sampling instant and returns it (a nowMs() time). */
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
 * How long the sampler keeps the event loop waiting, by default. Each turn of Node's event
 * loop costs about as much CPU as reading a whole sample (~100 µs measured, loaded
 * machine), so short gaps are waited out blocked and the loop is served once per slice:
 * signals (Ctrl-C), input and the status line are then at most this late.
 */
const EVENT_LOOP_SLICE_MS = 50;
let eventLoopServedAt = nowMs();

/**
 * Sleeps until a nowMs() deadline, never less. Within a slice of the last turn
 * of the event loop the wait blocks (precise, cheap); otherwise the event loop is served
 * once, by a timer for a gap above 2 ms or at once for a shorter one, and what is left
 * is waited out blocked: a timer fires up to 2 ms early, as libuv counts whole
 * milliseconds.
 */
export async function sleepUntil(deadline: number, sliceMs = EVENT_LOOP_SLICE_MS): Promise<void> {
  const now = nowMs();
  if (deadline - eventLoopServedAt > sliceMs) {
    const rem = deadline - now;
    if (rem > 2) await sleep(rem);
    else await new Promise((r) => setImmediate(r));
    eventLoopServedAt = nowMs();
  }
  const left = deadline - nowMs();
  if (left > 0) Atomics.wait(waitCell, 0, 0, left);
}
