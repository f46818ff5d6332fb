"""Target for stack -a: asyncio tasks with known names, states and lines in three event
loops. The main thread runs a loop whose task "main" gathers "fetcher-1" and "fetcher-2"
(each awaits leaf(), which sleeps), beside "idler" (waiting on an Event), "failed" (raised)
and "cancelled". Thread "bg-loop" runs a second loop whose "bg-main" awaits "bg-ticker"
(through a TaskGroup on 3.11+, a gather before). A third loop is never run: its task
"parked" is pending. Prints READY once every task is in place; on SIGUSR1 the main thread
runs the agent's bootstrap (agent_host.run_bootstrap).
"""
import asyncio
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_host import run_bootstrap  # noqa: E402

KEEP = []


async def leaf(n):
    await asyncio.sleep(3600)  # LINE:leaf


async def fetch(n):
    await leaf(n)  # LINE:fetch


async def failing():
    raise ValueError('boom')


async def idle(event):
    await event.wait()  # LINE:idle


async def ticker():
    while True:
        await asyncio.sleep(0.05)  # LINE:tick


async def bg_main(started):
    asyncio.current_task().set_name('bg-main')
    if hasattr(asyncio, 'TaskGroup'):
        async with asyncio.TaskGroup() as tg:  # LINE:group
            tg.create_task(ticker(), name='bg-ticker')
            started.set()
    else:
        task = asyncio.ensure_future(ticker())
        task.set_name('bg-ticker')
        started.set()
        await asyncio.gather(task)  # LINE:gather_bg


async def main():
    asyncio.current_task().set_name('main')
    event = asyncio.Event()
    KEEP.append(asyncio.ensure_future(idle(event)))
    KEEP[-1].set_name('idler')
    failed = asyncio.ensure_future(failing())
    failed.set_name('failed')
    cancelled = asyncio.ensure_future(asyncio.sleep(3600))
    cancelled.set_name('cancelled')
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    KEEP.extend([failed, cancelled])
    started = threading.Event()
    threading.Thread(target=lambda: asyncio.run(bg_main(started)), name='bg-loop', daemon=True).start()
    started.wait(10)
    parked_loop = asyncio.new_event_loop()
    parked = parked_loop.create_task(leaf(99))
    parked.set_name('parked')
    KEEP.extend([parked_loop, parked])
    fetchers = []
    for n in (1, 2):
        fetchers.append(asyncio.ensure_future(fetch(n)))
        fetchers[-1].set_name('fetcher-%d' % n)
    await asyncio.sleep(0.05)
    print('READY ' + json.dumps({'globals': sorted(vars(sys.modules['__main__']))}))
    await asyncio.gather(*fetchers)  # LINE:gather


if __name__ == '__main__':
    signal.signal(signal.SIGUSR1, run_bootstrap)
    asyncio.run(main())
