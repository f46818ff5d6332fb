# A CPU-bound target with a known split of time: each round busy-loops in heavy() for
# 3 units and in light() for 1 unit of the thread's CPU time, so a sampling profiler
# must attribute 75% of the samples to heavy and 25% to light. Not by amounts of work:
# equal loops do not take equal time (the first one after a call runs slower). Not by
# the wall clock: on a busy machine the thread is preempted, and a preemption inside
# heavy ate the rest of heavy's time and none of light's (heavy got 69%, not 75%). By
# CPU time, the time spent preempted (still "running" for the kernel and for a sampler)
# goes to the function interrupted. The unit is random (0.5 to 1.5 ms) from round to
# round: a round of fixed length can keep step with the kernel's periodic scheduler
# tick, and then preemptions keep hitting the same function (seen: 69% and 84%).
# A second thread sleeps (it must not appear unless --idle).
# Runs for argv[1] seconds (default: until killed), then exits with status argv[2]
# (default 0).
import random
import sys
import threading
import time

MS = 0.001


def burn(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def heavy(unit):
    burn(3 * unit)


def light(unit):
    burn(unit)


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
        unit = random.uniform(0.5, 1.5) * MS
        heavy(unit)
        light(unit)
    sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)


main()
