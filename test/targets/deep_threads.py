# N threads, each sleeping at the bottom of a D-deep Python call chain: the benchmark
# target for dump (bench/dump.ts).  python deep_threads.py N D
import sys
import threading
import time


def descend(depth, stop):
    if depth > 1:
        return descend(depth - 1, stop)
    stop.wait()


def main():
    count, depth = int(sys.argv[1]), int(sys.argv[2])
    stop = threading.Event()
    for i in range(count - 1):
        threading.Thread(target=descend, args=(depth - 3, stop), name="deep-%d" % i, daemon=True).start()
    time.sleep(0.2)
    print("READY", flush=True)
    while True:
        time.sleep(1)


main()
