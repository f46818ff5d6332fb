# The main thread sleeps in a system call without the GIL while another thread holds the
# GIL in one long C call (sum over a range, calibrated to last argv[1] seconds): a direct
# attach's PyGILState_Ensure waits that long inside the borrowed main thread. Prints
# READY when the hog starts, HOG DONE when it ends, and AFTER when the main thread's
# sleep (argv[2] seconds) ends.
import sys
import threading
import time

seconds = float(sys.argv[1])
start = time.perf_counter()
sum(range(10**7))
n = int(10**7 * seconds / (time.perf_counter() - start))


def hog():
    sum(range(n))
    print('HOG DONE', flush=True)


threading.Thread(target=hog).start()
print('READY', flush=True)
time.sleep(float(sys.argv[2]))
print('AFTER', flush=True)
