"""Target for the agent/channel tests. It stands in for the injector: on SIGUSR1 it runs
the bootstrap source (file named by SPYGLASS_TEST_BOOTSTRAP) on the main thread between
bytecodes, in __main__'s namespace -- where and how PyRun_SimpleString runs a pending
call -- or in a fresh dict when SPYGLASS_TEST_BOOTSTRAP_MODE=fresh (how PEP 768 runs a
script). It prints nothing but READY (with its globals) and, with --workers, one RESULT
line per worker: a checksum that hooks must not change (the workers keep
calling compute afterwards). SIGUSR2 makes it exit normally."""
import json
import os
import signal
import sys
import threading
import time


def compute(x):
    return x * x + 1


def make_counter():
    count = 0

    def bump(step=1):
        nonlocal count
        count += step
        return count
    return bump


class Shop(object):
    def __init__(self):
        self.items = {'apple': 3, 'pear': 5}

    def price(self, name):
        return self.items[name] * 10

    @classmethod
    def create(cls):
        return cls()

    @staticmethod
    def tax(value):
        return value // 10


SECRET = 'only-the-target-knows-%d' % os.getpid()
shop = Shop()
callbacks = [compute]  # a reference taken before any hook: it must see hooks too
counter = make_counter()


def worker(index, rounds):
    total = 0
    for _ in range(rounds):
        for i in range(200):
            total += callbacks[0](i + index) + shop.price('apple') + counter(0)
        time.sleep(0.002)
    # one write: print() writes the text and the newline separately, and two workers
    # finishing together interleaved them ("RESULT w1 ...RESULT w2 ...\n\n")
    sys.stdout.write('RESULT w%d %d\n' % (index, total))
    while True:  # stay busy (and alive: thread counts stay comparable)
        callbacks[0](index)
        time.sleep(0.005)


injections = {'queued': 0, 'running': False}


def run_bootstrap(signum, frame):
    # like CPython's pending calls, runs never nest: a signal arriving during a run
    # queues another run after it
    injections['queued'] += 1
    if injections['running']:
        return
    injections['running'] = True
    try:
        while injections['queued']:
            injections['queued'] -= 1
            with open(os.environ['SPYGLASS_TEST_BOOTSTRAP']) as f:
                source = f.read()
            fresh = os.environ.get('SPYGLASS_TEST_BOOTSTRAP_MODE') == 'fresh'
            exec(compile(source, '<string>', 'exec'), {} if fresh else sys.modules['__main__'].__dict__)
    finally:
        injections['running'] = False


def main():
    workers = int(sys.argv[sys.argv.index('--workers') + 1]) if '--workers' in sys.argv else 0
    rounds = int(sys.argv[sys.argv.index('--rounds') + 1]) if '--rounds' in sys.argv else 100
    signal.signal(signal.SIGUSR1, run_bootstrap)
    signal.signal(signal.SIGUSR2, lambda signum, frame: sys.exit(0))  # a normal exit (atexit handlers run)
    threads = [threading.Thread(target=worker, args=(i, rounds), name='worker-%d' % i) for i in range(workers)]
    print('READY ' + json.dumps({'globals': sorted(vars(sys.modules['__main__']))}))
    for t in threads:
        t.start()
    while True:
        time.sleep(0.05)


if __name__ == '__main__':
    main()
