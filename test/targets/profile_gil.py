# One thread holds the GIL inside a long C call (sum over a range never releases it);
# another thread wants to run Python code and mostly waits for the GIL; the main thread
# waits in join(). With --gil only the holder's frames may appear.
import threading


def hold_gil():
    while True:
        sum(range(30_000_000))


def want_gil():
    x = 0
    while True:
        x += 1


threads = [threading.Thread(target=hold_gil, name="holder", daemon=True), threading.Thread(target=want_gil, name="waiter", daemon=True)]
for t in threads:
    t.start()
print("READY", flush=True)
threads[0].join()
