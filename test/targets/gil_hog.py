# The main thread sleeps in a system call without the GIL while another thread holds the
# GIL in one long C call (sum over a range, calibrated to last argv[1] seconds): a direct
# attach's PyGILState_Ensure waits that long inside the borrowed main thread. Prints
# READY before the main thread's sleep (argv[2] seconds), HOG START when the hog takes the
# GIL (half a second later: by then the main thread sleeps without it; a hog started
# first could catch it between two writes of its READY line, waiting for the GIL), HOG
# DONE when the hog ends, and AFTER when the sleep ends.
import sys
import threading
import time

seconds = float(sys.argv[1])
start = time.perf_counter()
sum(range(10**7))
n = int(10**7 * seconds / (time.perf_counter() - start))


def hog():
    time.sleep(0.5)
    print('HOG START', flush=True)
    sum(range(n))
    print('HOG DONE', flush=True)


threading.Thread(target=hog).start()
print('READY', flush=True)
time.sleep(float(sys.argv[2]))
print('AFTER', flush=True)
