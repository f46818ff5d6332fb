"""The trace recorder on its own (hooked as the trace command hooks): coroutine and
generator calls as one node across their steps, tasks followed, the agent's frames never
in a tree, and nothing left on the thread afterwards."""

import asyncio
import json
import linecache
import os
import sys
import threading
import time
import unittest
import warnings

from _load import agent_package

agent_package()
from _spyglass_agent import hooks  # noqa: E402
from _spyglass_agent.commands import trace as trace_command  # noqa: E402
from _spyglass_agent.commands.trace import tracer  # noqa: E402
from _spyglass_agent.scope import Scope  # noqa: E402


async def leaf():
    await asyncio.sleep(0.02)


async def middle():
    await asyncio.sleep(0.01)
    await leaf()


async def part(n):
    await asyncio.sleep(0.005 * n)


async def fan():
    await asyncio.gather(part(1), part(2))


async def grouped():
    async with asyncio.TaskGroup() as group:
        group.create_task(part(1))
        group.create_task(part(2))


async def leaves_a_task_running():
    asyncio.ensure_future(part(10))
    await asyncio.sleep(0)


async def fails_after_a_wait():
    await asyncio.sleep(0.001)
    raise KeyError('x')


def numbers(n):
    for i in range(n):
        time.sleep(0.002)
        yield i


def sum_numbers():
    total = 0
    for x in numbers(3):
        time.sleep(0.004)
        total += x
    return total


def first_number():
    for x in numbers(3):
        return x  # the generator is dropped unfinished


def refuses_throw():
    yield 1


def thrown_into():
    gen = refuses_throw()
    next(gen)
    try:
        gen.throw(ValueError('no'))
    except ValueError:
        pass
    return 1


def helper(x):
    return x * 2


def sync_root():
    return helper(3) + len(str(helper(4)))


def two_levels():
    for _ in range(3):
        sync_root()


def trace(fn, run, interval_ms=0.1, max_depth=None, prepare=None, whole=None):
    """The tree of one call of fn, recorded as the trace command records it (prepare(rec)
    runs as the recording begins; whole=[] receives the Recording)."""
    recorder = tracer.make_tracer(interval_ms / 1000.0, max_depth)
    stepwise = bool(fn.__code__.co_flags & (hooks.CO_COROUTINE | hooks.CO_GENERATOR))
    done = []

    def on_enter(args, kwargs, code):
        rec = recorder.begin((code,), suspended=stepwise)
        if rec is not None and prepare is not None:
            prepare(rec)
        return rec

    def on_exit(rec, value, exc, cost):
        if rec is not None:
            recorder.end(rec)
            done.append((rec, cost))

    owner = Scope('test')
    hooks.install(
        owner,
        fn,
        on_enter,
        on_exit,
        on_resume=lambda r: r and recorder.resume(r),
        on_suspend=lambda r: r and recorder.pause(r),
        with_code=True,
    )
    try:
        run()
    finally:
        owner.release_all()
        recorder.close()
    rec, cost = done[0]
    if whole is not None:
        whole.append(rec)
    return tracer.TreeBuilder().build(rec, fn.__code__, cost)


def child(node, name):
    found = [c for c in node['children'] if c['name'] == name or c['name'].endswith('.' + name)]
    assert found, '%s has no child %s: %s' % (node['name'], name, [c['name'] for c in node['children']])
    return found[0]


def nodes(node):
    yield node
    for c in node['children']:
        yield from nodes(c)


class AsyncTrace(unittest.TestCase):
    def tearDown(self):
        self.assertIsNone(sys.getprofile())  # nothing left on this thread

    def test_awaited_chain(self):
        tree = trace(middle, lambda: asyncio.run(middle()))
        self.assertGreaterEqual(tree['cost_ms'], 30)
        sleep, lf = [c for c in tree['children'] if c['kind'] == 'py']
        self.assertEqual((sleep['name'], sleep['count'], sleep['waits'][0]['on']), ('sleep', 1, 'asyncio.sleep'))
        self.assertGreaterEqual(sleep['cost_ms'], 10)
        self.assertEqual((lf['name'], lf['count'], lf['waits']), ('leaf', 1, []))
        self.assertGreaterEqual(lf['cost_ms'], 20)
        # asyncio.sleep arms its timer, then suspends: a thread descheduled in between (a
        # loaded machine) shortens the suspension, never the wall time
        self.assertTrue(0 < lf['suspended_ms'] <= lf['cost_ms'], lf)
        self.assertEqual(lf['call_line'], middle.__code__.co_firstlineno + 2)  # `await leaf()`
        sleep = child(lf, 'sleep')
        self.assertTrue(0 < sleep['suspended_ms'] <= sleep['cost_ms'], sleep)
        self.assertGreaterEqual(sleep['cost_ms'], 20)

    def test_gather_tasks_under_the_awaiting_call(self):
        tree = trace(fan, lambda: asyncio.run(fan()))
        self.assertEqual([w['on'] for w in tree['waits']], ['other tasks (gather)'])
        parts = child(tree, 'part')
        self.assertEqual((parts['count'], parts['task'], parts['unfinished']), (2, True, False))
        self.assertGreaterEqual(parts['max_ms'], 10)

    @unittest.skipUnless(hasattr(asyncio, 'TaskGroup'), 'TaskGroup is 3.11+')
    def test_task_group_tasks_under_the_creating_call(self):
        tree = trace(grouped, lambda: asyncio.run(grouped()))
        first = grouped.__code__.co_firstlineno
        parts = [(c['call_line'], c['count'], c['task']) for c in tree['children'] if c['name'] == 'part']
        self.assertEqual(parts, [(first + 2, 1, True), (first + 3, 1, True)])

    @unittest.skipUnless(hasattr(asyncio, 'eager_task_factory'), 'eager tasks are 3.12+')
    def test_eager_tasks_under_the_awaiting_call(self):
        async def main():
            asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
            await fan()

        tree = trace(fan, lambda: asyncio.run(main()))
        parts = child(tree, 'part')
        self.assertEqual((parts['count'], parts['task'], parts['unfinished']), (2, True, False))
        self.assertGreaterEqual(parts['max_ms'], 10)
        self.assertEqual(child(parts, 'sleep')['waits'][0]['on'], 'asyncio.sleep')

    def test_task_left_running_is_closed_when_the_call_returns(self):
        async def main():
            await leaves_a_task_running()
            await asyncio.sleep(0.06)  # the task ends long after the traced call did

        tree = trace(leaves_a_task_running, lambda: asyncio.run(main()), 0)
        task = child(tree, 'part')
        self.assertEqual((task['task'], task['unfinished']), (True, True))

    def test_exception_after_a_wait(self):
        def run():
            with self.assertRaises(KeyError):
                asyncio.run(fails_after_a_wait())

        tree = trace(fails_after_a_wait, run)
        self.assertEqual(child(tree, 'sleep')['count'], 1)


class GeneratorTrace(unittest.TestCase):
    def tearDown(self):
        self.assertIsNone(sys.getprofile())

    def test_one_node_per_generator_call_without_its_consumers_time(self):
        tree = trace(sum_numbers, sum_numbers)
        gen = child(tree, 'numbers')
        self.assertEqual(gen['count'], 1)
        self.assertEqual(child(gen, 'time.sleep')['count'], 3)
        self.assertGreaterEqual(gen['cost_ms'], 6)
        self.assertLess(gen['cost_ms'], tree['cost_ms'] - 10)  # the consumer's 3 x 4 ms are not in it

    def test_dropped_and_thrown_into_generators_still_make_one_node(self):
        self.assertEqual(child(trace(first_number, first_number, 0), 'numbers')['count'], 1)
        # started by next(), a C function: under it
        started = child(child(trace(thrown_into, thrown_into, 0), 'next'), 'refuses_throw')
        self.assertEqual(started['count'], 1)


class OwnFramesAndLines(unittest.TestCase):
    """With another command's hooks inside the traced call, no frame of the agent's shows
    and every line shown is a line of code of its file."""

    def check(self, tree):
        self.assertGreater(len(list(nodes(tree))), 2)
        for node in nodes(tree):
            self.assertFalse(hooks.is_agent_file(node['path']), node)
            if node['kind'] == 'py':
                self.assertTrue(linecache.getline(node['path'], node['line']).strip(), node)
            for c in node['children']:
                if c['call_line']:
                    self.assertTrue(linecache.getline(node['path'], c['call_line']).strip(), c)

    def test_async_and_sync(self):
        owner = Scope('watch')
        try:
            for fn in (leaf, helper):
                hooks.install(owner, fn, lambda a, k: 1, lambda t, v, e, c: None)
            self.check(trace(middle, lambda: asyncio.run(middle()), 0))
            tree = trace(sync_root, sync_root, 0)
            self.check(tree)
            self.assertEqual(child(tree, 'helper')['count'], 2)
        finally:
            owner.release_all()


class CutShort(unittest.TestCase):
    """A recording that lacks calls says what it lacks; a whole one says nothing."""

    def tearDown(self):
        self.assertIsNone(sys.getprofile())

    def test_whole(self):
        recs = []
        trace(two_levels, two_levels, 0, whole=recs)
        self.assertIsNone(recs[0].cut_short())

    def test_below_depth(self):
        recs = []
        tree = trace(two_levels, two_levels, 0, max_depth=1, whole=recs)
        self.assertEqual(child(tree, 'sync_root')['count'], 3)
        self.assertEqual(child(tree, 'sync_root')['children'], [])
        # under each sync_root: helper twice, len (and str, a class, timed on 3.12+)
        self.assertIn(recs[0].cut_short()['below_depth'], (9, 12))

    def test_over_budget(self):
        budget = tracer.MAX_RECORDS
        tracer.MAX_RECORDS = 4
        try:
            recs = []
            trace(two_levels, two_levels, 0, whole=recs)
        finally:
            tracer.MAX_RECORDS = budget
        rec = recs[0]
        self.assertEqual(len(rec.records), 4)
        self.assertEqual(set(rec.cut_short()), {'over_budget'})
        self.assertGreaterEqual(rec.cut_short()['over_budget'], 3 * 3 + 1 - 4)

    def test_recorder_error(self):
        class Refuses(list):
            def append(self, item):
                raise MemoryError('no room')

        def prepare(rec):
            rec.records = Refuses()

        recs = []
        trace(two_levels, two_levels, 0, prepare=prepare, whole=recs)
        self.assertEqual(recs[0].cut_short(), {'error': 'the recorder stopped on this thread: MemoryError: no room'})


class CallsInTheInstallWindow(unittest.TestCase):
    """The hook is live before ``install`` returns: a call that another thread makes in
    that window is traced whole (it once showed only its root: the command learnt which
    code the call runs from install's result, after the call had begun without it)."""

    class _Request(object):
        cmd = 'trace'

        def __init__(self, args, owner):
            self.args = args
            self.owner = owner
            self.done = threading.Event()
            self.cancelled = False
            self.events = []

        def arg(self, name, kind=None, default=None, required=False):
            value = self.args.get(name)
            return default if value is None else value

        def emit(self, event, data=None):
            self.events.append((event, data))
            return True

        def wait(self, timeout=None):
            return self.done.wait(timeout)

    class _CallingScope(Scope):
        """Runs sync_root the moment the hook registers itself: the hook is live then,
        and install has not returned."""

        def add(self, label, cleanup):
            if label.startswith('hook '):
                sync_root()
            return Scope.add(self, label, cleanup)

    def test_a_call_begun_before_install_returns_has_its_children(self):
        owner = self._CallingScope('request')
        ctx = self._Request({'module': __name__, 'method': 'sync_root', 'interval': 0, 'limit': 1}, owner)
        try:
            end = trace_command.run(ctx)
        finally:
            owner.close()
        self.assertEqual(end['shown'], 1)
        tree = [data for event, data in ctx.events if event == 'trace'][0]['tree']
        self.assertEqual(child(tree, 'helper')['count'], 2)


class CodeOfTheCall(unittest.TestCase):
    def test_on_enter_is_told_the_code_the_call_runs_while_other_hooks_come_and_go(self):
        # another hook arriving between the call starting and on_enter replaces the site's
        # copy of the code: the code told is still the one this call runs
        owner, told, ran = Scope('test'), [], []

        def target():
            ran.append(sys._getframe().f_code)

        def add_another(args, kwargs):
            hooks.install(owner, target, lambda a, k: None, lambda t, v, e, c: None)

        try:
            hooks.install(owner, target, add_another, lambda t, v, e, c: None)
            hooks.install(owner, target, lambda a, k, code: told.append(code), lambda t, v, e, c: None, with_code=True)
            target()
        finally:
            owner.release_all()
        self.assertEqual(len(ran), 1)
        self.assertIs(told[0], ran[0])


class ForkedChild(unittest.TestCase):
    """A child forked from inside a traced call keeps nothing of the trace: no command
    will ever end it there (a worker forked inside the call would record for good)."""

    def test_the_child_runs_without_the_tracer(self):
        read_end, write_end = os.pipe()

        def forks():
            helper(1)
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', DeprecationWarning)  # 3.12+: forking with threads
                pid = os.fork()
            if pid == 0:
                try:
                    if tracer.HAS_MONITORING:
                        left = [i for i in range(6) if sys.monitoring.get_tool(i) == 'spyglass-trace']
                    else:
                        left = [] if sys.getprofile() is None else [repr(sys.getprofile())]
                    helper(2)
                    os.write(write_end, json.dumps(left).encode())
                finally:
                    os._exit(0)
            helper(3)
            return pid

        pids = []
        tree = trace(forks, lambda: pids.append(forks()), interval_ms=0)
        os.close(write_end)
        os.waitpid(pids[0], 0)
        with os.fdopen(read_end) as f:
            self.assertEqual(json.loads(f.read()), [])
        # the parent's trace went on: the calls before and after the fork are in its tree
        self.assertEqual(sum(c['count'] for c in tree['children'] if c['name'].endswith('helper')), 2)
        self.assertIsNone(sys.getprofile())


if __name__ == '__main__':
    unittest.main()
