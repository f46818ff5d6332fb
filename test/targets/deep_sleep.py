# A target whose main thread sleeps at the bottom of a recursion deeper than the frames
# spyglass reads of one thread (4096): the dump tests check which end is left out.
import sys
import time

DEPTH = int(sys.argv[1])
sys.setrecursionlimit(DEPTH + 100)


def recurse(n):
    if n == 0:
        print("READY", flush=True)
        while True:
            time.sleep(1000)  # LINE:sleep
    return recurse(n - 1)  # LINE:recurse


recurse(DEPTH)
