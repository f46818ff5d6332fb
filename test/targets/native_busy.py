# A busy multithreaded target for the --native stop/resume safety test. Its threads do
# work whose loss a pause would show: sleeps that must never end early, bytes through a
# pipe that must all arrive, counters that must keep growing. Prints a STATUS line every
# 100 ms: cpu0 cpu1 sleeps short_sleeps written read errors.
import os
import threading
import time

cpu = [0, 0]
sleeps = short = written = read = errors = 0
r_fd, w_fd = os.pipe()


def spin(i):
    while True:
        cpu[i] += 1


def sleeper():
    global sleeps, short
    while True:
        t0 = time.monotonic()
        time.sleep(0.002)
        if time.monotonic() - t0 < 0.002:
            short += 1
        sleeps += 1


def writer():
    global written, errors
    while True:
        try:
            written += os.write(w_fd, b"x")
        except OSError:
            errors += 1
        time.sleep(0.001)


def reader():
    global read, errors
    while True:
        try:
            read += len(os.read(r_fd, 1))
        except OSError:
            errors += 1


for i in range(2):
    threading.Thread(target=spin, args=(i,), name=f"spin-{i}", daemon=True).start()
for fn in (sleeper, writer, reader):
    threading.Thread(target=fn, name=fn.__name__, daemon=True).start()
print("READY", flush=True)
while True:
    time.sleep(0.1)
    print("STATUS", cpu[0], cpu[1], sleeps, short, written, read, errors, flush=True)
