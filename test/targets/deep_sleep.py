# A target whose main thread sleeps at the bottom of a recursion deeper than the frames
# spyglass reads of one thread (4096): the dump tests check which end is left out. With
# argv[2] "busy" it burns CPU down there instead (what record samples).
import sys
import time

DEPTH = int(sys.argv[1])
BUSY = sys.argv[2:] == ["busy"]
sys.setrecursionlimit(DEPTH + 100)


def recurse(n):
    if n == 0:
        print("READY", flush=True)
        while BUSY:
            sum(range(1000))  # LINE:busy
        while True:
            time.sleep(1000)  # LINE:sleep
    return recurse(n - 1)  # LINE:recurse


recurse(DEPTH)
