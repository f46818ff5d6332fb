# gilstat target: "sorter" holds the GIL in one C call (sorting a big list, ~50 ms) every
# ~200 ms while "pyworker" runs Python code. Each sort's monotonic start/end is printed
# (SORT start_ns end_ns) so a test can compute the true hold share over any window.
import random
import sys
import threading
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 0
data = [random.random() for _ in range(N or 300000)]


def sort_once():
    return sorted(data)


def sorter():
    while True:
        t0 = time.monotonic_ns()
        sort_once()
        t1 = time.monotonic_ns()
        print('SORT %d %d' % (t0, t1), flush=True)
        time.sleep(0.15)


def pyworker():
    x = 0
    while True:
        for i in range(1000):
            x = (x * 31 + i) % 1000003


if not N:
    # calibrate: a list whose sort takes about 50 ms on this machine
    t = time.perf_counter()
    sorted(data)
    dt = time.perf_counter() - t
    data = [random.random() for _ in range(max(10000, int(len(data) * 0.05 / dt)))]

threading.Thread(target=sorter, name='sorter', daemon=True).start()
threading.Thread(target=pyworker, name='pyworker', daemon=True).start()
print('READY %d' % len(data), flush=True)
while True:
    time.sleep(1)
