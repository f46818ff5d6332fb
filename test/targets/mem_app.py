"""Target for `mem` (tests and bench/mem.ts).

- WIDGETS: exactly 1234 instances of Widget, held by a module global list.
- a "grower" thread: every 20 ms appends GROW_BATCH Leak objects, each with a fresh
  bytes payload allocated on the line marked ALLOC-LINE, to REGISTRY['leaks'] (so `mem
  diff` sees Leak grow, `mem top` names that line, `mem refs __main__ Leak` leads to the
  global REGISTRY). It prints "LEAKS <total>" after each batch and "TRACING <0|1>" when
  tracemalloc.is_tracing() changes, so a test sees tracemalloc start and stop.
- a "keeper" thread whose local variable `held` is the only reference to a Holder.
- argv "--objects N": N more small objects (tuples of an int and a str) for the benchmark
  of `mem summary` on a big heap; "--no-grow": no grower thread.
The agent is loaded by test/helpers/agent-target.ts's way: SIGUSR1 runs the bootstrap
source named by SPYGLASS_TEST_BOOTSTRAP on the main thread, in __main__'s namespace, as
the injector would. Prints READY {"globals": [...]}.
"""
import json
import os
import signal
import sys
import threading
import time
import tracemalloc

GROW_BATCH = 10


class Widget(object):
    def __init__(self, n):
        self.n = n


class Leak(object):
    __slots__ = ('payload',)

    def __init__(self, payload):
        self.payload = payload


class Holder(object):
    pass


WIDGETS = [Widget(i) for i in range(1234)]
REGISTRY = {'leaks': []}
BULK = []


def grower():
    tracing = None  # no local names the list: `mem refs` must find the global
    while True:
        for i in range(GROW_BATCH):
            payload = bytes(1000 + i)  # ALLOC-LINE
            REGISTRY['leaks'].append(Leak(payload))
        now = tracemalloc.is_tracing()
        out = 'LEAKS %d\n' % len(REGISTRY['leaks'])
        if now != tracing:
            tracing = now
            out += 'TRACING %d\n' % now
        sys.stdout.write(out)  # one write per batch: lines of threads never interleave
        time.sleep(0.02)


def keeper():
    held = Holder()
    while True:
        time.sleep(0.05)
    return held  # never reached; keeps `held` a live local


def run_bootstrap(signum, frame):
    with open(os.environ['SPYGLASS_TEST_BOOTSTRAP']) as f:
        source = f.read()
    exec(compile(source, '<string>', 'exec'), sys.modules['__main__'].__dict__)


def main():
    if 'SPYGLASS_TEST_BOOTSTRAP' in os.environ:
        signal.signal(signal.SIGUSR1, run_bootstrap)
    args = sys.argv[1:]
    if '--objects' in args:
        n = int(args[args.index('--objects') + 1])
        BULK.extend((i, 'o%d' % i) for i in range(n))
    threading.Thread(target=keeper, name='keeper', daemon=True).start()
    if '--no-grow' not in args:
        threading.Thread(target=grower, name='grower', daemon=True).start()
    sys.stdout.write('READY %s\n' % json.dumps({'globals': sorted(vars(sys.modules['__main__']))}))
    while True:
        time.sleep(0.05)


main()
