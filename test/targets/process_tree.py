# A process tree for `dump --subprocesses`: a multiprocessing.Pool of 2 whose workers each
# sleep in pool_task(), a subprocess.Popen child (another Python) sleeping in
# child_sleep(), and a zombie (a forked child that exited and is never waited for). Prints
# READY with the pids the test checks.
import multiprocessing
import os
import subprocess
import sys
import time


def pool_task(n):
    while True:
        time.sleep(1000)  # LINE:pool


def main_sleep():
    while True:
        time.sleep(1000)  # LINE:main


CHILD = "import time\ndef child_sleep():\n    while True:\n        time.sleep(1000)\nchild_sleep()\n"

if __name__ == "__main__":
    # the zombie first, while the process has one thread (a fork of a threaded process warns)
    zombie = os.fork()
    if zombie == 0:
        os._exit(0)
    multiprocessing.set_start_method("fork")
    pool = multiprocessing.Pool(2)
    for i in range(2):
        pool.apply_async(pool_task, (i,))
    child = subprocess.Popen([sys.executable, "-c", CHILD])
    workers = [p.pid for p in multiprocessing.active_children()]
    time.sleep(0.5)  # the pool's workers pick their tasks up
    print("READY", " ".join(map(str, workers)), child.pid, zombie, flush=True)
    main_sleep()
