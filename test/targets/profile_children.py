# A parent that starts two multiprocessing workers (fork) which burn CPU in child_work();
# the parent itself only waits. For --subprocesses. READY lists the worker pids; they
# exit by themselves soon after the parent is gone.
import multiprocessing
import os


def child_work(parent):
    x = 0
    while True:
        x += 1
        # never outlive the parent (a test kills it with SIGKILL)
        if x % 100000 == 0 and os.getppid() != parent:
            return


if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=child_work, args=(os.getpid(),), daemon=True) for _ in range(2)]
    for w in workers:
        w.start()
    print("READY", " ".join(str(w.pid) for w in workers), flush=True)
    for w in workers:
        w.join()
