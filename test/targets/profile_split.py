# A CPU-bound target with a known split of time: each round busy-loops in heavy() for
# 3 ms and in light() for 1 ms, so a sampling profiler must attribute 75% of the samples
# to heavy and 25% to light. The split is by the clock, not by amounts of work: equal
# loops do not take equal time (the first one after a call runs slower), and on a busy
# machine CPU time and wall time drift apart while the thread waits to be scheduled
# (still "running" for the kernel, and for a sampler). A second thread sleeps (it must
# not appear unless --idle).
# Runs for argv[1] seconds (default: until killed), then exits with status argv[2]
# (default 0).
import sys
import threading
import time

MS = 0.001


def burn(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def heavy():
    burn(3 * MS)


def light():
    burn(1 * MS)


def sleeper():
    while True:
        # a thread that wakes up is briefly running: sleep through any recording
        time.sleep(600)


def main():
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else 1e9
    threading.Thread(target=sleeper, name="sleeper", daemon=True).start()
    print("READY", flush=True)
    end = time.time() + limit
    while time.time() < end:
        heavy()
        light()
    sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)


main()
