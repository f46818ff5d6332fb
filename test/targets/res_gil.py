# gilstat target: "sorter" holds the GIL in one C call (sorting a big list, ~50 ms) every
# ~200 ms while "pyworker" runs Python code. Each sort's monotonic start/end is printed
# (SORT start_ns end_ns) so a test can compute the true hold share over any window.
import random
import sys
import threading
import time
from functools import partial
from operator import methodcaller

N = int(sys.argv[1]) if len(sys.argv) > 1 else 0
data = [random.random() for _ in range(N or 300000)]


_call = methodcaller('__call__')


def sort_once():
    # t0, the sort and t1 in one C call: no bytecode runs in between, so the GIL cannot
    # change hands and [t0, t1] is exactly a span the sorter holds it
    t0, _, t1 = map(_call, (time.monotonic_ns, partial(sorted, data), time.monotonic_ns))
    return t0, t1


def sorter():
    while True:
        t0, t1 = sort_once()
        sys.stdout.write('SORT %d %d\n' % (t0, t1))  # one write: lines of threads never interleave
        time.sleep(0.15)


def pyworker():
    x = 0
    while True:
        for i in range(1000):
            x = (x * 31 + i) % 1000003


if not N:
    # calibrate: a list whose sort takes about 50 ms of CPU on this machine (CPU time, not
    # wall time: on a loaded machine the wall time of the calibration run is inflated)
    t = time.thread_time()
    sorted(data)
    dt = time.thread_time() - t
    data = [random.random() for _ in range(max(10000, int(len(data) * 0.05 / dt)))]

sys.stdout.write('READY %d\n' % len(data))
threading.Thread(target=sorter, name='sorter', daemon=True).start()
threading.Thread(target=pyworker, name='pyworker', daemon=True).start()
while True:
    time.sleep(1)
