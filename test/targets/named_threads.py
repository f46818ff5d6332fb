# Threads with known names, for the thread-name tests.
#   named_threads.py start N   N threads "worker-0".."worker-(N-1)" started at once, in
#                              that order, before READY; all sleep. Launched by `record`,
#                              its first samples come before `import threading` is done.
#   named_threads.py reuse     one thread at a time, each named "gen-K" and living 3 s;
#                              glibc gives each the ident (pthread_t) of the one before.
#                              Prints "GEN gen-K <ident>" as each starts.
#   named_threads.py long      one sleeping thread named "long-" and 400 x's.
import sys
import threading
import time


def sleep_forever():
    while True:
        time.sleep(1000)


def live_a_while(seconds):
    time.sleep(seconds)


mode = sys.argv[1] if len(sys.argv) > 1 else "start"
if mode == "start":
    for i in range(int(sys.argv[2]) if len(sys.argv) > 2 else 10):
        threading.Thread(target=sleep_forever, name="worker-%d" % i, daemon=True).start()
    print("READY", flush=True)
    sleep_forever()
elif mode == "long":
    threading.Thread(target=sleep_forever, name="long-" + "x" * 400, daemon=True).start()
    print("READY", flush=True)
    sleep_forever()
else:
    print("READY", flush=True)
    k = 0
    while True:
        th = threading.Thread(target=live_a_while, args=(3,), name="gen-%d" % k)
        th.start()
        print("GEN gen-%d %d" % (k, th.ident), flush=True)
        th.join()
        k += 1
