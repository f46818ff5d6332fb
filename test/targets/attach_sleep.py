# Attach case: an idle target whose main thread sleeps for an hour.
import time

print('READY', flush=True)
time.sleep(3600)
