"""Ownership scopes: children, release order, closed scopes, failing cleanups."""

import unittest

from _load import agent_package

agent_package()
from _spyglass_agent.scope import Scope  # noqa: E402


class ScopeTest(unittest.TestCase):
    def test_release_runs_children_then_own_newest_first(self):
        order = []
        root = Scope('client')
        root.add('a', lambda: order.append('a'))
        req = root.child('request')
        req.add('r1', lambda: order.append('r1'))
        req.add('r2', lambda: order.append('r2'))
        root.add('b', lambda: order.append('b'))
        self.assertEqual(root.release_all(), 4)
        self.assertEqual(order, ['r2', 'r1', 'b', 'a'])
        self.assertTrue(req.closed)
        self.assertFalse(root.closed, 'a client scope stays usable after reset')
        root.add('c', lambda: order.append('c'))
        self.assertEqual(root.close(), 1)
        self.assertEqual(root.close(), 0)

    def test_closed_scope_cleans_new_resources_at_once(self):
        done = []
        s = Scope('x')
        s.close()
        s.add('late', lambda: done.append(1))
        self.assertEqual(done, [1])
        s.child('late child').add('c', lambda: done.append(2))
        self.assertEqual(done, [1, 2])

    def test_forget_and_failing_cleanup(self):
        done = []
        s = Scope('x')
        forget = s.add('gone', lambda: done.append('gone'))
        forget()
        s.add('boom', lambda: 1 / 0)
        s.add('ok', lambda: done.append('ok'))
        s.close()
        self.assertEqual(done, ['ok'])


if __name__ == '__main__':
    unittest.main()
