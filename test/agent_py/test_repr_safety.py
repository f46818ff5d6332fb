"""Every value turned into text goes through the renderer: render.text summarizes big
built-in containers without repr(), time-limits and survives a user's __repr__, and
mem refs' chain (a module's globals dict on it) is made that way."""

import sys
import time
import types
import unittest

from _load import agent_package

agent_package()
from _spyglass_agent import render  # noqa: E402
from _spyglass_agent.commands.mem import referrers  # noqa: E402
from test_render import Raises, Slow  # noqa: E402  (the hostile reprs the renderer's own tests use)


class Counted(list):
    """A list whose repr() would be noticed."""

    calls = 0

    def __repr__(self):
        Counted.calls += 1
        return list.__repr__(self)


class Held(object):
    def __repr__(self):
        return 'Held()'


class TextTest(unittest.TestCase):
    def test_a_big_container_is_summarized(self):
        self.assertEqual(render.text(list(range(10**6))), '[0, 1, 2, 3, 4, ...(999995 more)]')
        self.assertEqual(render.text({'a': [1] * 10**6}), "{'a': list[1000000]}")

    def test_a_hostile_repr_is_contained(self):
        self.assertRegex(
            render.text(Raises()),
            r'^<.*Raises object at 0x[0-9a-f]+>  <__repr__ raised RuntimeError: no repr for you>$',
        )
        started = time.monotonic()
        self.assertIn('__repr__ took over', render.text(Slow()))
        self.assertLess(time.monotonic() - started, 1.5)

    def test_text_is_cut(self):
        self.assertEqual(len(render.text('x' * 5000, 100)), 100)


class RefsTest(unittest.TestCase):
    def test_the_chain_never_reprs_the_module_globals(self):
        mod = types.ModuleType('spyglass_refs_fixture')
        mod.keeper = Counted([Held()])
        mod.bulk = list(range(10**5))
        mod.Held = Held
        sys.modules[mod.__name__] = mod
        self.addCleanup(sys.modules.pop, mod.__name__)
        out = referrers.referrer_chain(mod.__name__, 'Held')
        self.assertEqual(out['root'], {'kind': 'module', 'module': mod.__name__, 'name': 'keeper'})
        self.assertEqual(
            [s['repr'] for s in out['chain']],
            ['module spyglass_refs_fixture globals', 'test_repr_safety.Counted([Held()])', 'Held()'],
        )
        # neither the globals dict (a 100,000-item list in it) nor the list holding the
        # instance went through repr(): a repr of the dict would have called Counted's
        self.assertEqual(Counted.calls, 0)


if __name__ == '__main__':
    unittest.main()
