"""The hook engine: every kind of function, closures, nested functions, composition,
removal in any order, and nothing of ours leaking into the target."""

import asyncio
import inspect
import json
import math
import os
import sys
import threading
import time
import unittest
import warnings

from _load import agent_package

agent_package()
from _spyglass_agent import hooks, log  # noqa: E402
from _spyglass_agent.errors import AgentError  # noqa: E402
from _spyglass_agent.scope import Scope  # noqa: E402


def plain(a, b=2, *args, c, d=4, **kw):
    return (a, b, args, c, d, kw)


def posonly(a, /, b):
    return a - b


def fails(x):
    raise ValueError('bad %s' % x)


def make_counter():
    count = 0

    def bump(step=1):
        nonlocal count
        count += step
        return count

    return bump


def outer(x):
    def inner(y):
        return x + y

    return inner(1) + inner(2)


def outer_returning(x):
    def inner(y):
        return x * y

    return inner


class Holder(object):
    def method(self, v):
        def no_closure(w):  # free of cells: the hook site runs a plain function of it
            return ('method', w)

        return no_closure(v)


def outer_plain(v):
    def no_closure(w):
        return ('plain', w)

    return no_closure(v)


class Base(object):
    def m(self):
        return 'base'


class Child(Base):
    def m(self):
        return 'child+' + super().m()

    @classmethod
    def cm(cls, x):
        return (cls.__name__, x)

    @staticmethod
    def sm(x):
        return x * 2


async def coro(x):
    await asyncio.sleep(0)
    return x + 1


def gen(n):
    got = []
    for i in range(n):
        got.append((yield i))
    return got


def rec(n):
    return 1 if n <= 1 else n * rec(n - 1)


async def agen():
    yield 1


def fork_inside():
    return os.fork()


class Recorder(object):
    def __init__(self):
        self.calls = []

    def enter(self, args, kwargs):
        return (args, kwargs)

    def exit(self, token, value, exc, cost):
        self.calls.append((token, value, exc, cost))


class HookTest(unittest.TestCase):
    def setUp(self):
        self.owner = Scope('test')
        self.rec = Recorder()

    def tearDown(self):
        self.owner.close()
        self.assertEqual(hooks.active(), [])

    def hook(self, fn, **kw):
        return hooks.install(self.owner, fn, self.rec.enter, self.rec.exit, **kw)

    def test_signature_args_and_identity(self):
        original = plain.__code__
        self.hook(plain)
        self.assertIsNot(plain.__code__, original)
        self.assertEqual(plain.__code__.co_name, 'plain')
        self.assertEqual(str(inspect.signature(plain)), '(a, b=2, *args, c, d=4, **kw)')
        self.assertEqual(plain(1, 9, 8, c=3, e=5), (1, 9, (8,), 3, 4, {'e': 5}))
        self.assertEqual(self.rec.calls[0][0], ((1, 9, 8), {'c': 3, 'd': 4, 'e': 5}))
        self.assertEqual(self.rec.calls[0][1], (1, 9, (8,), 3, 4, {'e': 5}))
        self.assertGreaterEqual(self.rec.calls[0][3], 0)
        self.hook(posonly)
        self.assertEqual(posonly(5, b=3), 2)
        with self.assertRaises(TypeError):
            posonly(a=5, b=3)
        self.owner.release_all()
        self.assertIs(plain.__code__, original)
        self.assertEqual(plain(1, c=2), (1, 2, (), 2, 4, {}))

    def test_exceptions_pass_through_unchanged(self):
        self.hook(fails)
        with self.assertRaises(ValueError) as cm:
            fails(3)
        self.assertEqual(str(cm.exception), 'bad 3')
        token, value, exc, cost = self.rec.calls[0]
        self.assertIs(exc, cm.exception)
        self.assertIsNone(value)

    def test_closure_cells_are_the_real_ones(self):
        bump = make_counter()
        self.hook(bump)
        self.assertEqual(bump(), 1)
        self.assertEqual(bump(5), 6)
        self.owner.release_all()
        self.assertEqual(bump(), 7, 'nonlocal writes during the hook went to the real cell')

    def test_methods_classmethods_staticmethods_super(self):
        bound = Child().m  # taken before the hook
        for fn in (Child.__dict__['m'], Child.__dict__['cm'].__func__, Child.__dict__['sm'].__func__):
            self.hook(fn)
        self.assertEqual(bound(), 'child+base')
        self.assertEqual(Child.cm(1), ('Child', 1))
        self.assertEqual(Child().sm(4), 8)
        self.assertEqual(len(self.rec.calls), 3)

    def test_async_and_generators_keep_their_kind(self):
        self.hook(coro)
        self.hook(gen)
        self.assertTrue(inspect.iscoroutinefunction(coro))
        self.assertTrue(inspect.isgeneratorfunction(gen))
        self.assertEqual(asyncio.run(coro(1)), 2)
        g = gen(2)
        self.assertEqual(next(g), 0)
        self.assertEqual(g.send('a'), 1)
        with self.assertRaises(StopIteration) as stop:
            g.send('b')
        self.assertEqual(stop.exception.value, ['a', 'b'])
        self.assertEqual([c[1] for c in self.rec.calls], [2, ['a', 'b']])
        with self.assertRaises(AgentError):
            self.hook(agen)

    def test_recursion_is_observed_at_every_level(self):
        self.hook(rec)
        self.assertEqual(rec(4), 24)
        self.assertEqual([c[1] for c in self.rec.calls], [1, 2, 6, 24])

    def test_hooked_recursion_goes_half_as_deep_as_unhooked(self):
        # a hooked call is two frames (the wrapper's and the original's): a recursion that
        # uses 45% of the room left under the limit unhooked still fits hooked
        depth = (sys.getrecursionlimit() - len(inspect.stack(0))) * 45 // 100
        self.hook(rec)
        self.assertEqual(rec(depth), math.factorial(depth))
        self.assertEqual(len(self.rec.calls), depth)

    def test_parameters_named_like_the_wrappers_locals(self):
        def clash(_spyglass_a, _spyglass_f=2, *_spyglass_k, _spyglass_s, **_spyglass_r):
            return (_spyglass_a, _spyglass_f, _spyglass_k, _spyglass_s, _spyglass_r)

        self.hook(clash)
        self.assertEqual(clash(1, 3, 4, _spyglass_s=5, z=6), (1, 3, (4,), 5, {'z': 6}))
        self.assertEqual(self.rec.calls[0][0], ((1, 3, 4), {'_spyglass_s': 5, 'z': 6}))

    def test_nested_functions_live_and_future(self):
        keep = outer_returning(3)  # a closure made before the hook
        original_outer = outer_returning.__code__
        original_inner = keep.__code__
        self.hook(outer_returning, nested='inner')
        self.assertEqual(keep(2), 6)
        later = outer_returning(4)  # made while hooked
        self.assertEqual(later(2), 8)
        self.assertEqual([c[1] for c in self.rec.calls], [6, 8])
        self.hook(outer, nested='inner')
        self.assertEqual(outer(10), 23)
        self.assertEqual([c[1] for c in self.rec.calls[2:]], [11, 12])
        with self.assertRaises(AgentError) as cm:
            self.hook(outer, nested='missing')
        self.assertIn('inner', cm.exception.hint)
        self.owner.release_all()
        self.assertIs(outer_returning.__code__, original_outer)
        self.assertIs(keep.__code__, original_inner)
        self.assertIs(later.__code__, original_inner)

    def test_nested_functions_without_closure(self):
        # the site's own function of the nested code must not be taken for one of the
        # target's live closures and swapped: it would call its own wrapper for ever
        codes = (Holder.method.__code__, outer_plain.__code__)
        self.hook(Holder.method, nested='no_closure')
        self.hook(outer_plain, nested='no_closure')
        self.assertEqual(Holder().method(1), ('method', 1))
        self.assertEqual(outer_plain(2), ('plain', 2))
        self.assertEqual([c[1] for c in self.rec.calls], [('method', 1), ('plain', 2)])
        self.owner.release_all()
        self.assertEqual(Holder().method(3), ('method', 3))
        self.assertEqual(len(self.rec.calls), 2)
        self.assertIs(Holder.method.__code__, codes[0])
        self.assertIs(outer_plain.__code__, codes[1])

    def test_hooks_compose_and_unhook_in_any_order(self):
        original = rec.__code__
        second = Recorder()
        other = Scope('other')
        h1 = self.hook(rec)
        h2 = hooks.install(other, rec, second.enter, second.exit)
        h3 = self.hook(rec, nested=None)
        rec(1)
        self.assertEqual(len(self.rec.calls), 2)
        self.assertEqual(len(second.calls), 1)
        h1.remove()
        rec(1)
        self.assertEqual(len(self.rec.calls), 3)
        self.assertEqual(len(second.calls), 2)
        other.close()  # h2 goes with its owner
        self.assertTrue(h2.removed)
        rec(1)
        self.assertEqual(len(second.calls), 2)
        self.assertEqual(len(self.rec.calls), 4)
        self.assertIsNot(rec.__code__, original)
        h3.remove()
        h3.remove()  # idempotent
        self.assertIs(rec.__code__, original)

    def test_replace_code_keeps_hooks_across_a_new_signature(self):
        def target(a):
            return a * 2

        def new_version(a, b=10):
            return a * 3 + b

        original = target.__code__
        second = Recorder()
        other = Scope('other')
        h1 = self.hook(target)
        hooks.install(other, target, second.enter, second.exit)
        self.assertEqual(target(1), 2)
        self.assertIs(hooks.original_code(target), original)
        self.assertTrue(hooks.replace_code(target, new_version.__code__))
        target.__defaults__ = new_version.__defaults__
        # both hooks see the new code's calls, with the new signature's arguments
        self.assertEqual(target(1), 13)
        self.assertEqual(self.rec.calls[-1][:2], (((1, 10), {}), 13))
        self.assertEqual(second.calls[-1][1], 13)
        self.assertEqual(str(inspect.signature(target)), '(a, b=10)')
        self.assertIs(hooks.original_code(target), new_version.__code__)
        # removed in any order, from the old site and the new: the new code stays, bare
        h1.remove()
        target(2)
        self.assertEqual(len(self.rec.calls), 2)
        other.close()
        self.assertIs(target.__code__, new_version.__code__)
        self.assertEqual(target(2), 16)
        # unhooked: a plain swap
        self.assertFalse(hooks.replace_code(target, original))
        self.assertIs(target.__code__, original)

    def test_replace_code_refused_under_a_nested_hook(self):
        self.hook(outer, nested='inner')
        with self.assertRaises(AgentError):
            hooks.replace_code(outer, outer_returning.__code__)

    def test_outer_and_nested_hooks_together(self):
        original = outer.__code__
        h_outer = self.hook(outer)
        h_inner = self.hook(outer, nested='inner')
        self.assertEqual(outer(1), 5)
        self.assertEqual(sorted(c[1] for c in self.rec.calls), [2, 3, 5])
        h_outer.remove()
        self.assertEqual(outer(1), 5)
        self.assertEqual(len(self.rec.calls), 5)
        h_inner.remove()
        self.assertIs(outer.__code__, original)

    def test_failing_callbacks_never_reach_the_target(self):
        def bad_enter(args, kwargs):
            raise RuntimeError('enter')

        def bad_exit(token, value, exc, cost):
            raise RuntimeError('exit')

        h = hooks.install(self.owner, rec, bad_enter, bad_exit)
        self.assertEqual(rec(3), 6)
        self.assertEqual(h.hook.errors, 6)

    def test_calls_made_by_a_callback_are_not_observed_again(self):
        seen = []

        def enter(args, kwargs):
            seen.append(args)
            return rec(2)  # a hooked function called from inside the hook

        hooks.install(self.owner, rec, enter, lambda *a: None)
        self.assertEqual(rec(1), 1)
        self.assertEqual(seen, [(1,)])

    def test_no_names_written_into_module_globals(self):
        before = set(globals())
        self.hook(plain)
        self.hook(make_counter)
        plain(1, c=1)
        make_counter()
        self.assertEqual(set(globals()), before)

    def test_threads_see_the_hook(self):
        self.hook(rec)
        threads = [threading.Thread(target=rec, args=(3,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(self.rec.calls), 12)

    def test_closed_owner_refuses_new_hooks(self):
        original = rec.__code__
        self.owner.close()
        self.hook(rec)
        self.assertIs(rec.__code__, original)

    def test_a_forked_child_runs_without_the_hooks(self):
        # no client will ever remove them in the child: the agent's threads stayed behind
        keep = outer_returning(3)
        originals = (plain.__code__, outer_returning.__code__, keep.__code__)
        self.hook(plain)
        self.hook(outer_returning, nested='inner')
        self.hook(fork_inside)
        # the engine's and the log's locks held by another thread at the fork (a hook being
        # installed elsewhere) would stay held in the child for good
        held, release = threading.Event(), threading.Event()

        def hold():
            with hooks._lock, log._lock:
                held.set()
                release.wait()

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait()
        read_end, write_end = os.pipe()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', DeprecationWarning)  # 3.12+: forking with threads
                pid = fork_inside()  # a hooked call under way at the fork: it ends quietly there
            if pid == 0:
                try:
                    calls = len(self.rec.calls)
                    plain(1, c=2)
                    keep(2)
                    outer_returning(4)(2)
                    log.error('no deadlock')
                    hooks.install(Scope('child'), rec, self.rec.enter, self.rec.exit).remove()
                    report = {
                        'codes': [
                            a is b for a, b in zip((plain.__code__, outer_returning.__code__, keep.__code__), originals)
                        ],
                        'active': hooks.active(),
                        'observed': len(self.rec.calls) - calls,
                    }
                    os.write(write_end, json.dumps(report).encode())
                finally:
                    os._exit(0)
        finally:
            release.set()
            holder.join()
        os.close(write_end)
        for _ in range(1000):
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
            time.sleep(0.01)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            self.fail('the forked child hung')
        with os.fdopen(read_end, 'rb') as f:
            report = json.loads(f.read().decode() or 'null')
        self.assertEqual(report, {'codes': [True, True, True], 'active': [], 'observed': 0})
        # the parent keeps its hooks
        self.assertEqual(len(self.rec.calls), 1)
        self.assertIsNot(plain.__code__, originals[0])
        plain(1, c=2)
        self.assertEqual(len(self.rec.calls), 2)


if __name__ == '__main__':
    unittest.main()
