# Attach case: one CPU-bound thread that never sleeps (the main thread runs Python all the time).
import sys

def spin():
    n = 0
    while True:
        n = (n * 31 + 7) % 1000003

print('READY', flush=True)
spin()
