# Attach case: an idle target whose main thread sleeps (an hour unless told otherwise);
# it prints WOKE with the time slept, so a test can check the sleep survived the attach.
import sys
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3600
print('READY', flush=True)
t0 = time.monotonic()
time.sleep(seconds)
print('WOKE %.2f' % (time.monotonic() - t0), flush=True)
