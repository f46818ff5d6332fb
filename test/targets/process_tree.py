# A process tree for `dump --subprocesses`: a multiprocessing.Pool of 2 whose workers each
# sleep in pool_task(), a subprocess.Popen child (another Python) sleeping in
# child_sleep(), and a zombie (a forked child that exited and is never waited for). Prints
# READY with the pids the test checks, once each of them is inside its sleeping function
# (a child dumped while still starting up has no Python frame yet).
import multiprocessing
import os
import subprocess
import sys
import time


STARTED = None  # a queue the pool's workers report on; inherited through fork


def pool_task(n):
    STARTED.put(n)
    while True:
        time.sleep(1000)  # LINE:pool


def main_sleep():
    while True:
        time.sleep(1000)  # LINE:main


CHILD = (
    "import time\ndef child_sleep():\n    while True:\n        time.sleep(1000)\n"
    "print('up', flush=True)\nchild_sleep()\n"
)

if __name__ == "__main__":
    # the zombie first, while the process has one thread (a fork of a threaded process warns)
    zombie = os.fork()
    if zombie == 0:
        os._exit(0)
    multiprocessing.set_start_method("fork")
    STARTED = multiprocessing.Queue()
    pool = multiprocessing.Pool(2)
    for i in range(2):
        pool.apply_async(pool_task, (i,))
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE)
    workers = [p.pid for p in multiprocessing.active_children()]
    for _ in range(2):
        STARTED.get(timeout=60)
    child.stdout.readline()  # "up": the next statement is the call to child_sleep()
    time.sleep(0.2)  # the few bytecodes from put()/print() to time.sleep()
    print("READY", " ".join(map(str, workers)), child.pid, zombie, flush=True)
    main_sleep()
