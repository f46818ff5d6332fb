"""The renderer's output is real JSON with type names (what --json prints), and it holds
up against hostile objects: containers whose __len__/items raise, __repr__ that returns
a non-string, many slow __repr__s in one value, mappings with non-string keys."""

import collections
import json
import math
import time
import unittest

from _load import agent_package

agent_package()
from _spyglass_agent import render  # noqa: E402


class Outer(object):
    class Inner(object):
        def __init__(self):
            self.tag = 'inner'


class BadLen(list):
    def __len__(self):
        raise RuntimeError('no len')


class BadItems(dict):
    def items(self):
        raise ValueError('no items')


class NotStr(object):
    def __repr__(self):
        return 42


class Slow(object):
    def __repr__(self):
        while True:
            pass


class Raises(object):
    def __repr__(self):
        raise RuntimeError('nope')


Pair = collections.namedtuple('Pair', 'left right')


def roundtrip(node):
    """JSON text as --json prints it, parsed back; allow_nan=False: strict JSON only."""
    return json.loads(json.dumps(node, allow_nan=False))


class JsonTest(unittest.TestCase):
    # a __repr__ that raises at once must not be timed out instead when the machine is loaded
    def setUp(self):
        self.repr_seconds = render.REPR_SECONDS
        render.REPR_SECONDS = 10.0

    def tearDown(self):
        render.REPR_SECONDS = self.repr_seconds

    def test_real_json_with_type_names(self):
        value = {
            (1, 2): float('nan'),
            None: [b'\x00bytes', {3}, math.inf],
            7: Outer.Inner(),
            'pair': Pair(1, 'b'),
            'od': collections.OrderedDict(a=1),
            'raises': Raises(),
        }
        node = render.render(value, expand=3)
        self.assertEqual(roundtrip(node), node)
        by_key = dict((c['key']['repr'], c) for c in node['children'])
        self.assertEqual(by_key['(1, 2)']['key']['type'], 'tuple')
        self.assertEqual(by_key['(1, 2)']['value'], {'type': 'float', 'repr': 'nan'})
        self.assertEqual(by_key['None']['key']['type'], 'NoneType')
        self.assertEqual([c['value']['type'] for c in by_key['None']['value']['children']], ['bytes', 'set', 'float'])
        inner = by_key['7']['value']
        self.assertEqual(inner['type'], '%s.Outer.Inner' % __name__)
        self.assertEqual(inner['children'], [{'name': 'tag', 'value': {'type': 'str', 'repr': "'inner'"}}])
        self.assertEqual(by_key["'pair'"]['value']['type'], '%s.Pair' % __name__)
        self.assertEqual([c['value']['repr'] for c in by_key["'pair'"]['value']['children']], ['1', "'b'"])
        self.assertEqual(by_key["'od'"]['value']['type'], 'collections.OrderedDict')
        self.assertIn('RuntimeError: nope', by_key["'raises'"]['value']['error'])

    def test_mapping_truncation_counts(self):
        node = render.render(dict((i, i) for i in range(150)))
        self.assertEqual((node['len'], len(node['children']), node['truncated']), (150, 100, 50))
        self.assertEqual(node['repr'], '{0: 0, 1: 1, 2: 2, 3: 3, 4: 4, ...(145 more)}')

    def test_cycle_in_json(self):
        d = {}
        d['self'] = d
        node = roundtrip(render.render(d, expand=4))
        self.assertTrue(node['children'][0]['value']['cycle'])

    def test_hostile_containers_do_not_escape(self):
        node = render.render(BadLen([1, 2]))
        self.assertEqual(node['type'], '%s.BadLen' % __name__)
        self.assertEqual(node['error'], 'could not be read: RuntimeError: no len')
        self.assertRegex(node['repr'], r'^<.*BadLen object at 0x')
        node = render.render(BadItems(a=1))
        self.assertIn('ValueError: no items', node['error'])
        node = render.render([BadLen([1])], expand=2)
        self.assertIn('no len', node['children'][0]['value']['error'])

    def test_repr_not_a_string(self):
        node = render.render(NotStr())
        self.assertIn('__repr__ returned non-string', node['error'])
        self.assertRegex(node['repr'], r'^<.*NotStr object at 0x')


class SlowReprTest(unittest.TestCase):
    def test_many_slow_reprs_are_bounded_in_total(self):
        start = time.monotonic()
        node = render.render([Slow() for _ in range(40)], expand=1)
        # the budget is wall-clock time: on a loaded machine only one repr's time more
        self.assertLess(time.monotonic() - start, render.TOTAL_SECONDS + render.REPR_SECONDS + 3)
        # the list was cut when the time ran out, and says how much is missing
        self.assertLess(len(node['children']), 40)
        self.assertEqual(node['truncated'], 40 - len(node['children']))
        roundtrip(node)


if __name__ == '__main__':
    unittest.main()
