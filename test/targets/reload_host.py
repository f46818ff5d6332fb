"""Target for reload: imports reload_mod from the directory given as argv[1] (a copy the
test rewrites), and keeps references taken before any reload, the way applications do:
a `from ... import` copy, bound methods, a closure, a decorated function. A thread calls
price() every 10 ms (for watch across a reload). Prints READY once set up; on SIGUSR1 the
main thread runs the agent's bootstrap (agent_host.run_bootstrap)."""
import asyncio
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_host import run_bootstrap  # noqa: E402

sys.path.insert(0, sys.argv[1])
import reload_mod  # noqa: E402
# the references taken before any reload, called by the tests through eval
from reload_mod import label as held_label, price as held_price, scaled as held_scaled  # noqa: E402, F401

shop = reload_mod.Shop()
held_total = shop.total
held_secret = shop.secret
held_kind = reload_mod.Shop.kind
held_tax = reload_mod.Shop.tax
held_fetch = shop.fetch
held_count = reload_mod.make_counter()


def fetch(x):
    return asyncio.run(held_fetch(x))


def caller():
    n = 0
    while True:
        held_price(n)
        n += 1
        time.sleep(0.01)


def main():
    signal.signal(signal.SIGUSR1, run_bootstrap)
    print('READY ' + json.dumps({'globals': sorted(vars(sys.modules['__main__']))}))
    threading.Thread(target=caller, name='caller', daemon=True).start()
    while True:
        time.sleep(0.1)


if __name__ == '__main__':
    main()
