# A CPU-bound target with a known split of work: each round calls heavy() for three
# units of work and light() for one, so a sampling profiler must attribute about 75% of
# the samples to heavy and 25% to light. A second thread sleeps (it must not appear
# unless --idle). Runs for argv[1] seconds (default: until killed), then exits with
# status argv[2] (default 0).
import sys
import threading
import time

UNIT = 20000


def spin(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def heavy():
    return spin(3 * UNIT)


def light():
    return spin(UNIT)


def sleeper():
    while True:
        time.sleep(1)


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
