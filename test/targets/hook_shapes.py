"""Target for the hook matrix (test/e2e/hook-matrix.test.ts): one function of every shape a
hook can be put on, all called by a `driver` thread every round with the round number i.

Each function returns a value the test recomputes from its argument: shape(i) == i * K + T
with K and T per shape (SHAPES below, printed in READY), so a reported call carries its
argument and its return value. Every 20 rounds the driver prints `ROUND i` (the test's
"still progressing" check); nothing else is printed after READY.

A stand-in torch (sys.modules['torch'], no CUDA) makes `torch profile` hook for real: its
profiler writes a small JSON trace naming the thread it was entered and left on.
The agent is loaded as in test/helpers/agent-target.ts: SIGUSR1 runs the bootstrap
source named by SPYGLASS_TEST_BOOTSTRAP in __main__'s namespace.
"""
import asyncio
import functools
import json
import os
import signal
import sys
import threading
import time
import types


def install_stand_in_torch():
    class Profile(object):
        def __init__(self, activities, record_shapes):
            self.activities = activities
            self.threads = []

        def __enter__(self):
            self.threads.append(threading.current_thread().name)
            return self

        def __exit__(self, *exc):
            self.threads.append(threading.current_thread().name)

        def export_chrome_trace(self, path):
            with open(path, 'w') as f:
                json.dump({'stand_in_torch': True, 'threads': self.threads, 'traceEvents': []}, f)

    profiler = types.SimpleNamespace(profile=Profile, ProfilerActivity=types.SimpleNamespace(CPU='ProfilerActivity.CPU'))
    torch = types.ModuleType('torch')
    torch.__version__ = '0.0.0+stand-in'
    torch.profiler = profiler
    torch.cuda = types.SimpleNamespace(is_available=lambda: False)
    sys.modules['torch'] = torch


def mod_func(x):
    return x * 2 + 1


class Shape(object):
    def __init__(self):
        self.last = 0

    def method(self, x):
        return x * 3 + 2

    @classmethod
    def cmeth(cls, x):
        return x * 4 + 3

    @staticmethod
    def smeth(x):
        return x * 5 + 4

    @property
    def prop(self):
        return self.last * 6 + 5

    def outer_method(self, x):
        def nested_in_method(v):
            return v * 7 + 6
        return nested_in_method(x)

    @classmethod
    def outer_cmeth(cls, x):
        def nested_in_cmeth(v):
            return v * 8 + 7
        return nested_in_cmeth(x)


class Derived(Shape):
    pass


async def async_func(x):
    await asyncio.sleep(0)
    return x * 9 + 8


def gen_func(x):
    yield x
    return x * 10 + 9


def outer_func(x):
    def nested_in_func(v):
        return v * 11 + 10
    return nested_in_func(x)


async def outer_async(x):
    def nested_in_async(v):
        return v * 12 + 11
    await asyncio.sleep(0)
    return nested_in_async(x)


def with_wraps(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


def without_wraps(fn):
    def plain_wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return plain_wrapper


@with_wraps
def wrapped_func(x):
    return x * 13 + 12


@without_wraps
def unwrapped_func(x):
    return x * 14 + 13


def recursive(x, depth=3):
    return x * 15 + 14 if depth == 0 else recursive(x, depth - 1)


@with_wraps
def wrapped_outer(x):
    def nested_in_wrapped(v):  # -nm finds it in the decorated function, not in wrapper
        return v * 16 + 15
    return nested_in_wrapped(x)


# name -> (K, T): shape(i) == i * K + T
SHAPES = {
    'mod_func': (2, 1), 'method': (3, 2), 'cmeth': (4, 3), 'smeth': (5, 4), 'prop': (6, 5),
    'nested_in_method': (7, 6), 'nested_in_cmeth': (8, 7), 'async_func': (9, 8), 'gen_func': (10, 9),
    'nested_in_func': (11, 10), 'nested_in_async': (12, 11), 'wrapped_func': (13, 12),
    'unwrapped_func': (14, 13), 'recursive': (15, 14), 'inherited': (3, 2), 'nested_in_wrapped': (16, 15),
}

# every function object a hook may touch: each must run its original code afterwards
FUNCTIONS = (mod_func, Shape.method, Shape.cmeth.__func__, Shape.smeth, Shape.prop.fget, Shape.outer_method,
             Shape.outer_cmeth.__func__, async_func, gen_func, outer_func, outer_async, wrapped_func,
             wrapped_func.__wrapped__, unwrapped_func, recursive, wrapped_outer, wrapped_outer.__wrapped__)
ORIGINAL_CODE = tuple(f.__code__ for f in FUNCTIONS)


def codes_restored():
    return all(f.__code__ is c for f, c in zip(FUNCTIONS, ORIGINAL_CODE))


def drain(gen):
    try:
        while True:
            next(gen)
    except StopIteration as e:
        return e.value


def one_round(i, loop, shape, derived):
    shape.last = i
    got = [mod_func(i), shape.method(i), Shape.cmeth(i), Shape.smeth(i), shape.prop, shape.outer_method(i),
           Shape.outer_cmeth(i), loop.run_until_complete(async_func(i)), drain(gen_func(i)), outer_func(i),
           loop.run_until_complete(outer_async(i)), wrapped_func(i), unwrapped_func(i), recursive(i),
           derived.method(i), wrapped_outer(i)]
    want = [i * k + t for k, t in SHAPES.values()]
    if got != want:
        print('WRONG round %d: %r != %r' % (i, got, want))


def driver():
    loop = asyncio.new_event_loop()
    shape, derived = Shape(), Derived()
    i = 0
    while True:
        one_round(i, loop, shape, derived)
        if i % 20 == 0:
            print('ROUND %d' % i)
        i += 1
        time.sleep(0.002)


def run_bootstrap(signum, frame):
    with open(os.environ['SPYGLASS_TEST_BOOTSTRAP']) as f:
        source = f.read()
    exec(compile(source, '<string>', 'exec'), sys.modules['__main__'].__dict__)


def main():
    install_stand_in_torch()
    signal.signal(signal.SIGUSR1, run_bootstrap)
    print('READY ' + json.dumps({'globals': sorted(vars(sys.modules['__main__'])), 'shapes': SHAPES}))
    threading.Thread(target=driver, name='driver', daemon=True).start()
    while True:
        time.sleep(0.05)


if __name__ == '__main__':
    main()
