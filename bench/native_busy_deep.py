# bench/native.ts's target: N threads, each busy (a tight Python loop calling a C
# function) at the bottom of a D-deep Python call chain.  python native_busy_deep.py N D
import sys
import threading
import time
import zlib

DATA = b'spyglass' * 512


def descend(depth):
    if depth > 1:
        return descend(depth - 1)
    while True:
        zlib.crc32(DATA)


count, depth = int(sys.argv[1]), int(sys.argv[2])
for i in range(count):
    threading.Thread(target=descend, args=(depth - 3,), name='busy-%d' % i, daemon=True).start()
time.sleep(0.2)
print('READY', flush=True)
while True:
    time.sleep(1)
