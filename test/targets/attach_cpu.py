# Attach case: one CPU-bound thread that never sleeps (the main thread runs Python all the
# time); it prints a tick every 2**20 rounds so a test can see it still runs.
n = 0
i = 0
print('READY', flush=True)
while True:
    n = (n * 31 + 7) % 1000003
    i += 1
    if i & 0xFFFFF == 0:
        print('TICK', i >> 20, flush=True)
