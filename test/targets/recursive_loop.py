# A target whose main thread calls a 20-deep recursive function in a tight loop: its
# stack changes depth every few microseconds, the worst case for reading stacks without
# pausing. The consistency tests check that every stack spyglass shows of it ends at
# <module> on the line marked below, and that few samples are dropped.
import sys

DEPTH = int(sys.argv[1]) if len(sys.argv) > 1 else 20


def recurse(n):  # LINE:def
    if n == 0:
        return 0
    return recurse(n - 1) + 1  # LINE:recurse


print("READY", flush=True)
while True:  # LINE:loophead
    recurse(DEPTH)  # LINE:loop
