"""Target for the async trace tests: coroutines with known waits, run forever by an asyncio
event loop on the `loop` thread, and a sync handler called by the `driver` thread.

- handle_request -> lookup (asyncio.sleep 10 ms) -> fetch_row (asyncio.sleep 20 ms)
- fan_out: asyncio.gather of part_a (10 ms) and part_b (20 ms), each its own task
- await_task: awaits a task it creates (part_a)
- napper -> three_naps, suspended three times (3 x 5 ms)
- queued / locked: suspended on an asyncio.Queue / asyncio.Lock released after 5 ms
- sum_numbers (a generator, 1 ms per step) and consume_agen (an async generator, 2 ms
  awaited per step)
- sync_handle -> parse, query (time.sleep 2 ms), render

STATE['profile_clean'] says, every round, whether the loop thread runs without a profile
function (nothing left behind by a trace). On SIGUSR1 the main thread runs the bootstrap
source named by SPYGLASS_TEST_BOOTSTRAP in __main__'s namespace, as the injector would.
"""
import asyncio
import json
import os
import signal
import sys
import threading
import time


async def fetch_row(key):
    await asyncio.sleep(0.02)
    return {'key': key}


async def lookup(key):
    await asyncio.sleep(0.01)
    return await fetch_row(key)


async def handle_request(key):
    row = await lookup(key)
    return {'ok': True, **row}


async def part_a():
    await asyncio.sleep(0.01)
    return 'a'


async def part_b():
    await asyncio.sleep(0.02)
    return 'b'


async def fan_out():
    a, b = await asyncio.gather(part_a(), part_b())
    return a + b


async def await_task():
    task = asyncio.ensure_future(part_a())
    return await task


async def three_naps():
    for _ in range(3):
        await asyncio.sleep(0.005)


async def napper():
    await three_naps()


async def queued():
    queue = asyncio.Queue()
    asyncio.get_running_loop().call_later(0.005, queue.put_nowait, 1)
    return await queue.get()


async def locked():
    lock = asyncio.Lock()
    await lock.acquire()
    asyncio.get_running_loop().call_later(0.005, lock.release)
    async with lock:
        return 1


def numbers(n):
    for i in range(n):
        time.sleep(0.001)
        yield i


def sum_numbers():
    total = 0
    for i in numbers(3):
        time.sleep(0.002)
        total += i
    return total


async def ticks(n):
    for i in range(n):
        await asyncio.sleep(0.002)
        yield i


async def consume_agen():
    total = 0
    async for i in ticks(3):
        total += i
    return total


def parse(request):
    return request['query'].strip()


def query(q):
    time.sleep(0.002)
    return [q] * 3


def render(rows):
    return '|'.join(rows)


def sync_handle(request):
    q = parse(request)
    rows = query(q)
    return render(rows)


STATE = {'rounds': 0, 'profile_clean': None}


async def serve():
    while True:
        await handle_request('k')
        await fan_out()
        await await_task()
        await napper()
        await queued()
        await locked()
        sum_numbers()
        await consume_agen()
        STATE['profile_clean'] = sys.getprofile() is None
        STATE['rounds'] += 1
        await asyncio.sleep(0.005)


def loop_thread():
    asyncio.run(serve())


def driver():
    while True:
        sync_handle({'query': ' hello '})
        time.sleep(0.005)


def run_bootstrap(signum, frame):
    with open(os.environ['SPYGLASS_TEST_BOOTSTRAP']) as f:
        source = f.read()
    exec(compile(source, '<string>', 'exec'), sys.modules['__main__'].__dict__)


def main():
    signal.signal(signal.SIGUSR1, run_bootstrap)
    print('READY ' + json.dumps({'globals': sorted(vars(sys.modules['__main__']))}), flush=True)
    for target in (loop_thread, driver):
        threading.Thread(target=target, name=target.__name__.replace('_thread', ''), daemon=True).start()
    while True:
        time.sleep(0.05)


if __name__ == '__main__':
    main()
