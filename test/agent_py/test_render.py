"""The object renderer: depth, truncation with counts, cycles, hostile __repr__s, huge
containers, raw and verbose modes."""

import time
import unittest

from _load import agent_package

agent_package()
from _spyglass_agent import render  # noqa: E402


class Point(object):
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Slotted(object):
    __slots__ = ('a', 'b')

    def __init__(self):
        self.a = 1


class Raises(object):
    def __repr__(self):
        raise RuntimeError('no repr for you')


class Slow(object):
    def __repr__(self):
        while True:
            pass


class Long(object):
    def __repr__(self):
        return 'L' * 50000


class RenderTest(unittest.TestCase):
    def test_atoms(self):
        self.assertEqual(render.render(42), {'type': 'int', 'repr': '42'})
        self.assertEqual(render.render('hi'), {'type': 'str', 'repr': "'hi'"})
        self.assertEqual(render.render(None), {'type': 'NoneType', 'repr': 'None'})

    def test_expand_depth(self):
        obj = Point(1, [2, {'k': Point(3, 4)}])
        one = render.render(obj, expand=1)
        self.assertEqual(one['type'], '%s.Point' % __name__)
        self.assertEqual([c['name'] for c in one['children']], ['x', 'y'])
        self.assertNotIn('children', one['children'][1]['value'])
        self.assertEqual(one['children'][1]['value']['repr'], '[2, dict[1]]')
        three = render.render(obj, expand=3)
        inner = three['children'][1]['value']['children'][1]['value']
        self.assertEqual(inner['children'][0]['key']['repr'], "'k'")
        self.assertNotIn('children', inner['children'][0]['value'])
        self.assertEqual(
            render.render(obj, expand=99)['children'][1]['value']['children'][1]['value']['children'][0]['value'][
                'children'
            ][0]['value']['repr'],
            '3',
        )

    def test_truncation_counts_and_verbose(self):
        big = list(range(250))
        node = render.render(big)
        self.assertEqual(node['len'], 250)
        self.assertEqual(len(node['children']), render.ITEMS_DEFAULT)
        self.assertEqual(node['truncated'], 150)
        self.assertEqual(node['repr'], '[0, 1, 2, 3, 4, ...(245 more)]')
        self.assertNotIn('truncated', render.render(big, verbose=True))
        text = render.render('x' * 5000)
        self.assertEqual(len(text['repr']), render.CHARS_DEFAULT)
        self.assertEqual(text['truncated'], 5002 - render.CHARS_DEFAULT)

    def test_huge_containers_are_fast(self):
        huge = list(range(3000000))
        start = time.monotonic()
        node = render.render({'data': huge}, expand=2)
        self.assertLess(time.monotonic() - start, 0.5)
        self.assertEqual(node['children'][0]['value']['truncated'], 3000000 - render.ITEMS_DEFAULT)

    def test_cycles(self):
        a = [1]
        a.append(a)
        node = render.render(a, expand=4)
        self.assertTrue(node['children'][1]['value']['cycle'])
        p = Point(1, None)
        p.y = p
        self.assertTrue(render.render(p, expand=3)['children'][1]['value']['cycle'])

    def test_every_level_bounded(self):
        # -x -1: a 10-deep nesting is expanded to the bottom, where -x 6 stops at 6
        deep = leaf = []
        for _ in range(10):
            leaf.append([])
            leaf = leaf[0]
        leaf.append('bottom')

        def depth(node):
            n = 0
            while node.get('children'):
                node = node['children'][0]['value']
                n += 1
            return n, node['repr']

        self.assertEqual(depth(render.render(deep, expand=-1)), (11, "'bottom'"))
        self.assertEqual(depth(render.render(deep, expand=6))[0], 6)
        # a chain deeper than the stack allows stops at EXPAND_ALL_DEPTH, without error
        chain = link = []
        for _ in range(5000):
            link.append([])
            link = link[0]
        node = render.render(chain, expand=-1)
        self.assertNotIn('error', node)
        self.assertEqual(depth(node)[0], render.EXPAND_ALL_DEPTH)
        # a wide graph stops expanding at NODES_MAX nodes (the time bound lifted: on a loaded
        # machine it would stop the render first, and this checks the node bound)
        wide = [[list(range(100)) for _ in range(100)] for _ in range(10)]
        saved, render.TOTAL_SECONDS = render.TOTAL_SECONDS, 600.0
        try:
            node = render.render(wide, expand=-1, verbose=True)
        finally:
            render.TOTAL_SECONDS = saved

        def count(n):
            return 1 + sum(count(c['value']) + (count(c['key']) if 'key' in c else 0) for c in n.get('children', ()))

        self.assertLessEqual(count(node), render.NODES_MAX + 10000)
        self.assertGreater(count(node), render.NODES_MAX // 2)

    def test_hostile_reprs(self):
        node = render.render(Raises())
        self.assertIn('RuntimeError: no repr for you', node['error'])
        self.assertRegex(node['repr'], r'^<.*Raises object at 0x')
        start = time.monotonic()
        node = render.render([Slow()], expand=1)
        self.assertLess(time.monotonic() - start, 2)
        self.assertIn('took over', node['children'][0]['value']['error'])
        self.assertEqual(len(render.render(Long())['repr']), render.CHARS_DEFAULT)

    def test_slots_raw_and_sets(self):
        self.assertEqual([(c['name'], c['value']['repr']) for c in render.render(Slotted())['children']], [('a', '1')])
        raw = render.render(Point(1, 2), raw=True)
        self.assertNotIn('children', raw)
        self.assertRegex(raw['repr'], r'Point object at')
        self.assertEqual(render.render({1})['repr'], '{1}')
        self.assertEqual(render.render(set())['repr'], 'set()')
        self.assertEqual(render.render((1,))['repr'], '(1,)')
        self.assertEqual(render.render({'a': 1})['children'][0]['value'], {'type': 'int', 'repr': '1'})


if __name__ == '__main__':
    unittest.main()
