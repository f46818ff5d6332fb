"""`monitor module [class] method [-nm NESTED] [-c CYCLE_SECONDS] [-n CYCLES]` (as in
Arthas): every cycle, the number of calls, successes, failures, failure rate, and the
average, min, max, p50 and p99 cost.

The application thread only updates counters of the current cycle (under a lock, so
calls from many threads are all counted); the command's thread swaps in a fresh cycle
when one is over and computes the percentiles from the costs kept
(all of them up to SAMPLES_MAX a cycle, then a uniform reservoir of that size).

Events: ``started`` {method, file, line, cycle_s}, then one ``cycle`` per cycle: {time,
method, cycle_s, calls, success, failure, failure_rate, avg_ms, min_ms, max_ms, p50_ms,
p99_ms} (the cost fields are null when there were no calls). End data: {cycles, reason}.
"""

import random
import threading
import time

from .. import observe

NAME = 'monitor'
SAMPLES_MAX = 10000


class _Cycle(object):
    __slots__ = ('calls', 'failures', 'total', 'low', 'high', 'samples')

    def __init__(self):
        self.calls = 0
        self.failures = 0
        self.total = 0.0
        self.low = float('inf')
        self.high = 0.0
        self.samples = []

    def add(self, cost, failed):
        self.calls += 1
        if failed:
            self.failures += 1
        self.total += cost
        if cost < self.low:
            self.low = cost
        if cost > self.high:
            self.high = cost
        samples = self.samples
        if len(samples) < SAMPLES_MAX:
            samples.append(cost)
        else:
            i = random.randrange(self.calls)
            if i < SAMPLES_MAX:
                samples[i] = cost

    def summary(self):
        n = self.calls
        out = {
            'calls': n,
            'success': n - self.failures,
            'failure': self.failures,
            'failure_rate': (self.failures / float(n)) if n else 0.0,
        }
        if not n:
            out.update(avg_ms=None, min_ms=None, max_ms=None, p50_ms=None, p99_ms=None)
            return out
        costs = sorted(self.samples)
        out.update(
            avg_ms=self.total / n * 1000.0,
            min_ms=self.low * 1000.0,
            max_ms=self.high * 1000.0,
            p50_ms=percentile(costs, 50) * 1000.0,
            p99_ms=percentile(costs, 99) * 1000.0,
        )
        return out


def percentile(sorted_values, p):
    """Nearest-rank percentile of a sorted, non-empty list."""
    rank = max(1, int(-(-p * len(sorted_values) // 100)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def run(ctx):
    cycle_s = observe.float_arg(ctx, 'cycle', 60.0, 0.1)
    cycles = observe.int_arg(ctx, 'cycles', 0, 0)  # 0: until stopped
    target = observe.resolve(ctx)
    current = [_Cycle()]
    lock = threading.Lock()

    def on_enter(args, kwargs):
        return None

    def on_exit(token, value, exc, cost):
        with lock:
            current[0].add(cost, exc is not None)

    done = [0]
    next_end = [None]

    def tick(now):
        if now < next_end[0]:
            return False
        with lock:
            finished, current[0] = current[0], _Cycle()
        next_end[0] += cycle_s
        ctx.emit('cycle', dict(finished.summary(), time=time.time(), method=target.label, cycle_s=cycle_s))
        done[0] += 1
        return cycles and done[0] >= cycles

    target.install(ctx, on_enter, on_exit)
    next_end[0] = time.monotonic() + cycle_s
    ctx.emit('started', dict(target.location(), method=target.label, cycle_s=cycle_s))
    reason = observe.pump(ctx, observe.Handoff(), lambda items: False, tick)
    return {'cycles': done[0], 'reason': reason}
