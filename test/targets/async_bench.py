"""Target for the stack -a benchmark: N asyncio tasks, each three coroutines deep, sleeping,
and a ticker that sleeps 1 ms at a time and prints, every 0.5 s, the longest it waited
beyond that ms (LAG <ms>): how long the loop was kept from running. argv[1]: N.
Prints READY once the tasks wait; on SIGUSR1 the main thread runs the agent's bootstrap."""
import asyncio
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_host import run_bootstrap  # noqa: E402


async def inner():
    await asyncio.sleep(3600)


async def middle():
    await inner()


async def outer():
    await middle()


async def ticker():
    worst, since = 0.0, time.monotonic()
    while True:
        t = time.monotonic()
        await asyncio.sleep(0.001)
        worst = max(worst, time.monotonic() - t - 0.001)
        if time.monotonic() - since >= 0.5:
            print('LAG %.3f' % (worst * 1000))
            worst, since = 0.0, time.monotonic()


async def main(n):
    tasks = [asyncio.ensure_future(outer()) for _ in range(n)]
    await asyncio.sleep(0.1)
    print('READY ' + json.dumps({'globals': sorted(vars(sys.modules['__main__'])), 'tasks': len(tasks)}))
    await ticker()


if __name__ == '__main__':
    signal.signal(signal.SIGUSR1, run_bootstrap)
    asyncio.run(main(int(sys.argv[1])))
