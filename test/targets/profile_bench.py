# The benchmark target of bench/record.ts: N threads, each at the bottom of a D-deep
# Python call chain, doing CPU-bound work in small batches. Every 0.25 s it prints
# "COUNT <batches done by all threads> <time.monotonic()> <time.process_time()>", so
# that a benchmark can measure the throughput (per second and per CPU second) while a
# profiler samples it and while none does.
#   python profile_bench.py N D
import sys
import threading
import time

done = [0]


def work():
    x = 0
    for i in range(2000):
        x += i * i
    return x


def descend(depth):
    if depth > 1:
        return descend(depth - 1)
    while True:
        work()
        # not atomic if the GIL switches threads in the middle (rare: every 5 ms at most);
        # a lost update only blurs the count by one
        done[0] += 1


def main():
    count, depth = int(sys.argv[1]), int(sys.argv[2])
    for i in range(count):
        # threading's own three frames come on top of descend's and work's: D deep in all
        threading.Thread(target=descend, args=(depth - 4,), name="worker-%d" % i, daemon=True).start()
    print("READY", flush=True)
    while True:
        time.sleep(0.25)
        print("COUNT", done[0], time.monotonic(), time.process_time(), flush=True)


main()
