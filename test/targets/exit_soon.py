# A target with threads deep in recursion that exits (with a normal interpreter
# shutdown) when it receives SIGUSR1, so that a dump can be reading it while it goes away.
import signal
import sys
import threading
import time


def recurse(n):
    if n:
        return recurse(n - 1)
    while True:
        sum(range(1000))


signal.signal(signal.SIGUSR1, lambda *_: sys.exit(0))
for i in range(8):
    threading.Thread(target=recurse, args=(50,), name="busy-%d" % i, daemon=True).start()
print("READY", flush=True)
while True:
    time.sleep(1)
