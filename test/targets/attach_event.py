# Attach case: the main thread blocks in Event().wait() (for ever unless told otherwise)
# while two other threads run Python; WOKE says how long the wait lasted.
import sys
import threading
import time


def busy():
    n = 0
    while True:
        n = (n * 31 + 7) % 1000003


for i in range(2):
    threading.Thread(target=busy, name='busy-%d' % i, daemon=True).start()
seconds = float(sys.argv[1]) if len(sys.argv) > 1 else None
print('READY', flush=True)
t0 = time.monotonic()
threading.Event().wait(seconds)
print('WOKE %.2f' % (time.monotonic() - t0), flush=True)
