# A thread that is idle most of the time and wakes up now and then to work, and a main
# thread idle throughout: without --idle the sampler leaves an idle thread's stack
# unread, and must read the thread right, under the same consistency checks, each time
# it runs again (test/e2e/sampler-idle-threads.test.ts).
import threading
import time


def work_after_wake(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def waker():
    while True:
        time.sleep(0.03)
        work_after_wake(0.02)


def main():
    threading.Thread(target=waker, name="waker", daemon=True).start()
    print("READY", flush=True)
    while True:
        time.sleep(600)


main()
