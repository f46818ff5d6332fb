"""Target for the heap-walk safety test (test/e2e/mem-asyncio.test.ts): an asyncio program
whose tasks await futures and sleeps, so that _asyncio's free list of future iterators is
populated (docs/free-lists.md), with Job objects kept in a global list.

The event loop runs in the `loop` thread. Its `ticker` task prints `COUNT n` every 20 ms
and, every 25th count, runs the program's own full collection and prints `COLLECTED n`.
`handle` (an async def) has a nested function `compute`, for watch -nm. The workers'
busy bursts alternate with idle spells (all awaiting one sleep): in those the free list
stays as it is, so damage done to it by a heap walk is met by the next collection.
The agent is loaded as in test/helpers/agent-target.ts: SIGUSR1 runs the bootstrap
source named by SPYGLASS_TEST_BOOTSTRAP in __main__'s namespace.
"""
import asyncio
import gc
import json
import os
import signal
import sys
import threading
import time


class Job(object):
    def __init__(self, n):
        self.n = n


JOBS = [Job(n) for n in range(5)]


async def handle(n):
    def compute(v):
        return v * 2 + 1
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    loop.call_soon(fut.set_result, n)
    return compute(await fut)


async def worker(k):
    n = 0
    while True:
        # forty futures awaited at once, then freed together: their iterators fill the free list
        await asyncio.gather(*[handle(n + j) for j in range(40)])
        n += 40
        await asyncio.sleep(0.2)


async def ticker():
    count = 0
    while True:
        await asyncio.sleep(0.02)
        count += 1
        print('COUNT %d' % count)
        if count % 25 == 0:
            gc.collect()
            print('COLLECTED %d' % count)


async def main():
    await asyncio.gather(ticker(), *[worker(k) for k in range(2)])


def run_bootstrap(signum, frame):
    with open(os.environ['SPYGLASS_TEST_BOOTSTRAP']) as f:
        source = f.read()
    exec(compile(source, '<string>', 'exec'), sys.modules['__main__'].__dict__)


if __name__ == '__main__':
    signal.signal(signal.SIGUSR1, run_bootstrap)
    print('READY ' + json.dumps({'globals': sorted(vars(sys.modules['__main__']))}))
    threading.Thread(target=asyncio.run, args=(main(),), name='loop', daemon=True).start()
    while True:
        time.sleep(0.05)
