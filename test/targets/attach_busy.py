# A busy multi-threaded target for repeated attach/detach: four worker threads extend a
# deterministic hash chain until SIGUSR1 arrives, then each prints how far it got and the
# chain's value; the test recomputes the value to prove nothing was disturbed.
import signal
import threading

stop = threading.Event()
results = {}


def worker(k):
    n = 0
    rounds = 0
    while not stop.is_set():
        for j in range(1000):
            n = (n * 31 + j + k) % 1000003
        rounds += 1
    results[k] = (rounds, n)


threads = [threading.Thread(target=worker, args=(k,), name='worker-%d' % k) for k in range(4)]
for t in threads:
    t.start()
signal.signal(signal.SIGUSR1, lambda *_: stop.set())
print('READY', flush=True)
while not stop.is_set():
    stop.wait(0.2)
for t in threads:
    t.join()
for k in sorted(results):
    print('RESULT', k, *results[k], flush=True)
