// When to take the next sample: a Poisson process (exponentially distributed gaps) so
// that sampling never locks step with periodic work in the target, scheduled against
// absolute deadlines so that the time spent sampling does not lower the rate. When the
// sampler falls far behind (a slow read, a stalled event loop) the missed instants are
// counted and skipped rather than taken in a burst.
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
 * Longest the sampler keeps the event loop waiting. Each turn of Node's event loop costs
 * more CPU than reading a whole sample, so gaps are waited out blocked and the loop is
 * served once per slice: signals (Ctrl-C), input and the status line (every 250 ms) are
 * then at most this late.
 */
const EVENT_LOOP_SLICE_MS = 100;
let eventLoopServedAt = nowMs();

/**
 * Sleeps until a nowMs() deadline, never less. The wait blocks (precise, cheap), and
 * once per slice the event loop is served by one turn that does not sleep (setImmediate):
 * a turn that sleeps in a timer instead costs about twice the CPU (measured: 0.27 against
 * 0.12 ms a turn at 100 Hz, BENCHMARKS.md#record-cpu-per-sample), as the timer fires up to
 * 2 ms early (libuv counts whole milliseconds) and a second blocked wait follows.
 */
export async function sleepUntil(deadline: number): Promise<void> {
  for (;;) {
    let now = nowMs();
    if (now - eventLoopServedAt >= EVENT_LOOP_SLICE_MS) {
      await new Promise((r) => setImmediate(r));
      now = eventLoopServedAt = nowMs();
    }
    const left = deadline - now;
    if (left <= 0) return;
    Atomics.wait(waitCell, 0, 0, Math.min(left, eventLoopServedAt + EVENT_LOOP_SLICE_MS - now));
  }
}
