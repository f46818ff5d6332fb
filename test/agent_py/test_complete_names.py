"""complete_names: the names the shell's Tab completion offers, with their kinds."""

import sys
import types
import unittest

from _load import agent_package

agent_package()
from _spyglass_agent.commands import complete_names  # noqa: E402
from _spyglass_agent.context import RequestContext  # noqa: E402


class _Connection(object):
    scope = agent = None


def ask(**args):
    return complete_names.run(RequestContext(1, 'complete_names', args, _Connection(), None))['names']


class CompleteNamesTest(unittest.TestCase):
    def setUp(self):
        mod = types.ModuleType('sg_complete_fixture')

        class Shop(object):
            rate = 3

            def buy(self):
                pass

        def checkout():
            pass

        mod.Shop, mod.checkout, mod.TOTAL, mod.os = Shop, checkout, 7, sys
        sys.modules['sg_complete_fixture'] = mod
        sys.modules['sg_complete_fixture.sub'] = types.ModuleType('sg_complete_fixture.sub')
        self.addCleanup(sys.modules.pop, 'sg_complete_fixture')
        self.addCleanup(sys.modules.pop, 'sg_complete_fixture.sub')

    def test_modules_one_dotted_level_at_a_time_without_the_agent(self):
        self.assertEqual(ask(prefix='sg_complete'), [{'name': 'sg_complete_fixture', 'kind': 'module'}])
        self.assertEqual([n['name'] for n in ask(prefix='sg_complete_fixture.')], ['sg_complete_fixture.sub'])
        self.assertFalse([n for n in ask(prefix='') if n['name'].startswith('_spyglass_agent')])

    def test_module_names_with_kinds(self):
        got = {n['name']: n['kind'] for n in ask(module='sg_complete_fixture')}
        self.assertEqual(got, {'Shop': 'class', 'checkout': 'function', 'TOTAL': 'value', 'os': 'module'})
        self.assertEqual(ask(module='sg_complete_fixture', prefix='ch'), [{'name': 'checkout', 'kind': 'function'}])

    def test_class_members_and_dunders_only_when_asked(self):
        got = {n['name']: n['kind'] for n in ask(module='sg_complete_fixture', cls='Shop')}
        self.assertEqual(got['buy'], 'function')
        self.assertEqual(got['rate'], 'value')
        self.assertNotIn('__init__', got)
        self.assertIn('__init__', [n['name'] for n in ask(module='sg_complete_fixture', cls='Shop', prefix='__')])

    def test_unknown_module_or_class_offers_nothing(self):
        self.assertEqual(ask(module='sg_no_such_module'), [])
        self.assertEqual(ask(module='sg_complete_fixture', cls='Nope'), [])
