"""Target for the watch/trace/monitor tests: functions with known arguments, results,
costs and exceptions, called in rounds by a `driver` thread, plus a `worker` thread that
holds a bound method taken before any hook and runs a profiler of its own.

Every round prints `ROUND i <json>`, a pure function of i (the tests recompute it), so a
hook that changed any result would show. On SIGUSR1 the main thread runs the bootstrap
source named by SPYGLASS_TEST_BOOTSTRAP in __main__'s namespace, as the injector's
pending call would. READY carries the module's global names (for the "nothing added to
the globals" check).
"""
import asyncio
import json
import os
import signal
import sys
import threading
import time

import observe_lib


class Account(object):
    def __init__(self, owner):
        self.__val = 100
        self.owner = owner

    def deposit(self, amount, note=None):
        self.__val += amount
        return {'success': amount > 0, 'balance': self.__val}

    @classmethod
    def open(cls, owner):
        return cls(owner)

    @staticmethod
    def fee(amount):
        return amount // 10


def parse(request):
    return request['query'].strip()


def query(q):
    time.sleep(0.002)
    return [q] * 3


def render_page(rows):
    return '|'.join(rows)


def handle(request):
    q = parse(request)
    rows = query(q)
    return {'success': True, 'body': render_page(rows)}


def risky(n):
    if n % 3 == 0:
        raise ValueError('bad n %d' % n)
    return n


async def fetch(n):
    await asyncio.sleep(0.003)
    return n * 2


def outer(n):
    def inner(v):
        return v + n
    return inner(n)


def numbers(n):
    for i in range(n):
        yield i
    return n


class Loud(object):
    def __repr__(self):
        raise RuntimeError('no repr for you')


def catalog(doc, items, odd):
    """Deep, long and unprintable arguments (for watch -x, -v and a raising __repr__)."""
    return len(items)


DOC = {'a': {'b': {'c': {'d': {'e': 1}}}}}
ITEMS = list(range(150))


def slow_sometimes(i):
    """15 ms on every fourth round, next to nothing otherwise (for trace -et)."""
    if i % 4 == 0:
        time.sleep(0.015)
    return i


def tally(i):
    """Only the tests call it (run_tally): known calls, failures and costs for monitor."""
    if i % 4 == 0:
        raise KeyError(i)
    time.sleep(0.001 if i < 30 else 0.05)
    return i


def run_tally(n):
    failed = 0
    for i in range(n):
        try:
            tally(i)
        except KeyError:
            failed += 1
    return failed


handlers = [handle]  # references taken before any hook: they must see hooks too
HANDLE_ID = id(handle)
WATCHED = (handle, parse, query, risky, fetch, outer, numbers, Account.deposit, Account.open.__func__, Account.fee,
           slow_sometimes, tally, catalog, observe_lib.scale)
ORIGINAL_CODE = tuple(f.__code__ for f in WATCHED)
PROFILE_STATE = {'installed': None, 'events': 0, 'trace_installed': None, 'trace_events': 0,
                 'monitoring_events': 0, 'monitoring_tool': None, 'cprofile_installed': None}


def codes_restored():
    return all(f.__code__ is c for f, c in zip(WATCHED, ORIGINAL_CODE))


def one_round(i, loop):
    out = [handlers[0]({'query': 'hello' if i % 2 == 0 else 'world'})['body']]
    account = Account.open('ann')
    out.append(account.deposit(i % 5 - 1, note='r%d' % i)['balance'])
    out.append(Account.fee(i * 10))
    try:
        out.append(risky(i))
    except ValueError as e:
        out.append(str(e))
    out.append(loop.run_until_complete(fetch(i)))
    out.append(outer(i))
    out.append(list(numbers(3)))
    slow_sometimes(i)
    catalog(DOC, ITEMS, Loud())
    observe_lib.scale(i, 1, factor=3, tag='r')
    return out


def driver():
    loop = asyncio.new_event_loop()
    i = 0
    while True:
        print('ROUND %d %s' % (i, json.dumps(one_round(i, loop), separators=(',', ':'))))
        i += 1
        time.sleep(0.01)


def worker():
    """Calls a bound method it took before any hook, under a profile function and a trace
    function of its own (which a trace of handle on this thread must leave working)."""
    deposit = Account('bob').deposit

    def profiler(frame, event, arg):
        PROFILE_STATE['events'] += 1

    def tracer(frame, event, arg):
        PROFILE_STATE['trace_events'] += 1  # 'call' events only: no local tracing

    sys.setprofile(profiler)
    sys.settrace(tracer)
    while True:
        deposit(0, note='worker')
        handle({'query': 'worker'})
        PROFILE_STATE['installed'] = sys.getprofile() is profiler
        PROFILE_STATE['trace_installed'] = sys.gettrace() is tracer
        time.sleep(0.02)


def c_profiled():
    """3.8-3.11: calls handle under cProfile, a C-level profile function that a trace on
    this thread cannot chain (it must say so and leave cProfile running)."""
    import cProfile
    profile = cProfile.Profile()
    profile.enable()
    while True:
        handle({'query': 'profiled'})
        PROFILE_STATE['cprofile_installed'] = sys.getprofile() is not None
        time.sleep(0.05)


def own_monitoring_tool():
    """On 3.12+, a sys.monitoring tool of the target's own (the profiler id), counting
    the starts of query: it must keep working while spyglass traces."""
    if not hasattr(sys, 'monitoring'):
        return
    m = sys.monitoring
    m.use_tool_id(m.PROFILER_ID, 'target-profiler')

    def on_start(code, offset):
        PROFILE_STATE['monitoring_events'] += 1

    m.register_callback(m.PROFILER_ID, m.events.PY_START, on_start)
    m.set_local_events(m.PROFILER_ID, query.__code__, m.events.PY_START)
    PROFILE_STATE['monitoring_tool'] = m.get_tool(m.PROFILER_ID)


def run_bootstrap(signum, frame):
    with open(os.environ['SPYGLASS_TEST_BOOTSTRAP']) as f:
        source = f.read()
    exec(compile(source, '<string>', 'exec'), sys.modules['__main__'].__dict__)


def main():
    signal.signal(signal.SIGUSR1, run_bootstrap)
    own_monitoring_tool()
    print('READY ' + json.dumps({'globals': sorted(vars(sys.modules['__main__']))}))
    threads = (driver, worker) if hasattr(sys, 'monitoring') else (driver, worker, c_profiled)
    for target in threads:
        threading.Thread(target=target, name=target.__name__, daemon=True).start()
    while True:
        time.sleep(0.05)


if __name__ == '__main__':
    main()
