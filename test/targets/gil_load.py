"""Benchmark target for gilstat's cost (bench/gilstat.ts): three threads contend for the
GIL (two run Python loops, one sorts a list in one C call, so the GIL's condition
variable has sleepers most of the time and gilstat's kernel-state reads are exercised).
Every 0.25 s the main thread prints "WORK <monotonic_ns> <loop iterations> <sorts>" (so
far): the benchmark compares both rates with and without gilstat on.
"""
import random
import sys
import threading
import time

counts = [0, 0, 0]  # loop-0, loop-1, sorts
data = [random.random() for _ in range(100000)]


def loop(slot):
    n = 0
    while True:
        for i in range(1000):
            n = (n * 31 + i) % 1000003
        counts[slot] += 1


def sorter():
    while True:
        sorted(data)
        counts[2] += 1
        time.sleep(0.01)


for i, target in enumerate((lambda: loop(0), lambda: loop(1), sorter)):
    threading.Thread(target=target, name=('loop-0', 'loop-1', 'sorter')[i], daemon=True).start()
sys.stdout.write('READY\n')
while True:
    time.sleep(0.25)
    sys.stdout.write('WORK %d %d %d\n' % (time.monotonic_ns(), counts[0] + counts[1], counts[2]))
