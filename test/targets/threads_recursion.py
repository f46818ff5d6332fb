# A target whose threads all recurse in tight loops through one shared function, with
# the GIL handed over every few microseconds: frames are freed and reused by another
# thread all the time (3.8-3.10 keep freed frame objects on free lists), the case where
# a walk of one thread's stack, raced, runs on into another thread's frames. Each
# thread's own function at the bottom of its stack is named after the thread (worker-2
# runs worker_2), so a stack holding another thread's function is visibly wrong.
# Usage: threads_recursion.py [THREADS] [DEPTH]
import sys
import threading

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 4
DEPTH = int(sys.argv[2]) if len(sys.argv) > 2 else 20


def recurse(n):
    if n == 0:
        return 0
    return recurse(n - 1) + 1


def worker():
    started.wait()
    while True:
        recurse(DEPTH)


def named(k):
    """worker, its code object renamed worker_K (co_name, and co_qualname from 3.11)."""
    name = f'worker_{k}'
    fields = {'co_name': name}
    if sys.version_info >= (3, 11):
        fields['co_qualname'] = name
    return type(worker)(worker.__code__.replace(**fields), globals(), name)


# hand the GIL over as often as CPython allows, so threads interleave within one walk
sys.setswitchinterval(1e-6)
# READY once every worker runs its own function: a stack read earlier may show a thread
# still in threading's start-up, below its worker_K
started = threading.Barrier(THREADS + 1)
for k in range(1, THREADS + 1):
    threading.Thread(target=named(k), name=f'worker-{k}', daemon=True).start()
started.wait()
print('READY', flush=True)
while True:
    recurse(DEPTH)
