"""Target for tt, getglobal, vmtool, module and console: classes defined in __main__,
workers that call them with known arguments, and a ticker that writes to the target's
own stdout (console output must never land there).

Prints READY once set up. Workers:
- process: Service.process(order) with order {'id': n, 'items': [n, n+1]}; right after
  the call the caller appends 1000 to order['items'] (a mutation tt must not see).
- handle: handle({'query': 'hello'|'other', 'n': n}) -> {'success': bool, 'n': n}.
- fetch: an asyncio loop awaiting Service.fetch(n) -> n * 3.
- outer: outer(n) calls its nested inner(x) with x = 2n (for tt -nm); -> 3n.
- total: total(values) with 150 numbers (for -v: more than the 100 items shown by default).
- big_worker: calls big() once with a 3 MiB argument each time BIG_CALL is set (tt's cap
  on a single value).
- big: with --flood, big(blob) every 2 ms with a fresh 256 KiB bytes object (tt's memory cap).

On SIGUSR1 the main thread runs the agent's bootstrap as the injector would
(agent_host.run_bootstrap), so these tests do not depend on ptrace injection.
"""
import asyncio
import gc
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inside_helper  # noqa: E402, F401 (loaded for the module and getglobal tests)
from agent_host import run_bootstrap  # noqa: E402

g_list = [1, 2, 3, {'k': 'v'}]
CONFIG = {'db': {'host': 'db.local', 'port': 5432}, 'debug': False}


class Order(object):
    kind = 'plain'  # a class attribute (static field) for getglobal

    def __init__(self, oid, amount):
        self.oid = oid
        self.amount = amount


class RushOrder(Order):
    kind = 'rush'


class Service(object):
    rate = 2

    def process(self, order):
        return {'id': order['id'], 'total': sum(order['items']) * self.rate}

    async def fetch(self, n):
        await asyncio.sleep(0.001)
        return n * 3

    def fail(self, n):
        raise ValueError('bad order %d' % n)


def handle(req):
    return {'success': req['query'] == 'hello', 'n': req['n']}


def big(blob):
    return len(blob)


def outer(n):
    def inner(x):
        return x + n
    return inner(2 * n)


def total(values):
    return sum(values)


class Node(object):
    def __init__(self):
        self.me = self  # a reference cycle: only the collector frees it


def make_garbage(n):
    """n unreachable cycles, kept until a collection (vmtool forceGc) frees them."""
    gc.disable()
    for _ in range(n):
        Node()
    return n


SERVICE = Service()
ORDERS = [Order(i, i * 10) for i in range(3)] + [RushOrder(99, 990)]


# the code objects before any hook, to check that hooks were all removed
ORIGINAL_CODES = [(f, f.__code__) for f in (Service.process, Service.fetch, Service.fail, handle, big, outer, total)]


def codes_restored():
    return all(f.__code__ is c for f, c in ORIGINAL_CODES)


def process_worker():
    n = 0
    while True:
        order = {'id': n, 'items': [n, n + 1]}
        SERVICE.process(order)
        order['items'].append(1000)  # mutated after the call
        try:
            SERVICE.fail(n)
        except ValueError:
            pass
        n += 1
        time.sleep(0.01)


def handle_worker():
    n = 0
    while True:
        handle({'query': 'hello' if n % 2 else 'other', 'n': n})
        outer(n)
        total(list(range(n, n + 150)))
        n += 1
        time.sleep(0.01)


def fetch_worker():
    async def loop():
        n = 0
        while True:
            await SERVICE.fetch(n)
            n += 1
            await asyncio.sleep(0.01)
    asyncio.run(loop())


def flood_worker():
    while True:
        big(os.urandom(256 * 1024))
        time.sleep(0.01)


BIG_CALL = threading.Event()


def big_worker():
    while True:
        BIG_CALL.wait()
        BIG_CALL.clear()
        big(b'x' * (3 << 20))


def ticker():
    n = 0
    while True:
        print('TICK %d' % n)
        n += 1
        time.sleep(0.05)


def main():
    workers = [process_worker, handle_worker, fetch_worker, big_worker, ticker]
    if '--flood' in sys.argv:
        workers.append(flood_worker)
    signal.signal(signal.SIGUSR1, run_bootstrap)
    # before the ticker starts, so that no TICK lands on the READY line
    print('READY ' + json.dumps({'globals': sorted(vars(sys.modules['__main__']))}))
    for w in workers:
        t = threading.Thread(target=w, name=w.__name__)
        t.daemon = True
        t.start()
    while True:
        time.sleep(0.1)


if __name__ == '__main__':
    main()
