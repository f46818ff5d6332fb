"""Target for bench/tt.ts: one thread calls handle(req) as fast as it can (req a small
dict, as a request handler gets); another prints `RATE <calls per second>` every 0.5 s.
On SIGUSR1 the main thread runs the agent's bootstrap (agent_host.run_bootstrap)."""
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_host import run_bootstrap  # noqa: E402

calls = [0]


def handle(req):
    return {'success': req['query'] == 'hello', 'n': req['n']}


def caller():
    n = 0
    while True:
        handle({'query': 'hello', 'n': n, 'tags': ['a', 'b']})
        n += 1
        calls[0] = n


def reporter():
    last, t0 = calls[0], time.perf_counter()
    while True:
        time.sleep(0.5)
        now, t1 = calls[0], time.perf_counter()
        print('RATE %.1f' % ((now - last) / (t1 - t0)))
        last, t0 = now, t1


def main():
    signal.signal(signal.SIGUSR1, run_bootstrap)
    print('READY ' + json.dumps({'globals': sorted(vars(sys.modules['__main__']))}))
    for fn in (caller, reporter):
        threading.Thread(target=fn, name=fn.__name__, daemon=True).start()
    while True:
        time.sleep(0.1)


if __name__ == '__main__':
    main()
