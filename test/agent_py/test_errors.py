"""One set of errors: every type the agent's source sends is declared in errors.TYPES and
listed in agent/PROTOCOL.md; an undeclared one goes out as InternalError; the one name
resolver answers a typo with the same type and suggestions whoever asks."""

import os
import re
import sys
import types
import unittest

from _load import PKG_DIR, agent_package

agent_package()
from _spyglass_agent import names  # noqa: E402
from _spyglass_agent.errors import TYPES, AgentError  # noqa: E402

PROTOCOL = os.path.join(PKG_DIR, '..', 'PROTOCOL.md')


def sent_types():
    """(file, type) for every error type literal in the agent's source."""
    found = []
    for root, _, files in os.walk(PKG_DIR):
        for f in files:
            if f.endswith('.py'):
                with open(os.path.join(root, f)) as fh:
                    text = fh.read()
                for m in re.finditer(r"AgentError\(\s*'(\w+)'|'type': '(\w+)'", text):
                    found.append((f, m.group(1) or m.group(2)))
    return found


class DeclaredTest(unittest.TestCase):
    def test_every_type_sent_is_declared_and_documented(self):
        sent = sent_types()
        self.assertGreater(len(sent), 30)
        self.assertEqual([s for s in sent if s[1] not in TYPES], [])
        with open(PROTOCOL) as fh:
            listed = set(re.findall(r'^\| `(\w+)` \|', fh.read(), re.M))
        self.assertEqual(sorted(set(TYPES) - listed), [], 'declared but not in PROTOCOL.md')
        self.assertEqual(sorted(listed & set(TYPES)), sorted(TYPES))

    def test_an_undeclared_type_goes_out_as_internal_error(self):
        e = AgentError('NoSuchType', 'boom')
        self.assertEqual(e.to_json()['type'], 'InternalError')
        self.assertIn('NoSuchType', e.to_json()['message'])


class Order(object):
    kind = 'plain'

    def total(self):
        return 1


class ResolverTest(unittest.TestCase):
    def setUp(self):
        self.module = types.ModuleType('spyglass_errors_fixture')
        self.module.Order = Order
        self.module.CONFIG = {}

        def compute():
            return 2

        self.module.compute = compute
        sys.modules[self.module.__name__] = self.module
        self.addCleanup(sys.modules.pop, self.module.__name__)

    def error(self, fn, *args):
        with self.assertRaises(AgentError) as cm:
            fn(*args)
        return cm.exception

    def test_typos_get_a_type_and_the_nearest_names(self):
        e = self.error(names.find_module, 'spyglass_errors_fixtur')
        self.assertEqual(e.type, 'ModuleNotFound')
        self.assertTrue(e.message.endswith('; did you mean: spyglass_errors_fixture?'), e.message)
        e = self.error(names.find_class, self.module, 'Ordr')
        self.assertEqual(
            (e.type, e.message), ('ClassNotFound', "spyglass_errors_fixture has no class 'Ordr'; did you mean: Order?")
        )
        e = self.error(names.find_field, Order, 'knd', 'spyglass_errors_fixture.Order')
        self.assertEqual(e.type, 'AttributeNotFound')
        self.assertIn('did you mean: kind?', e.message)

    def test_the_hook_resolver_suggests_too(self):
        e = self.error(names.find_function, 'spyglass_errors_fixture', None, 'compte')
        self.assertEqual(
            (e.type, e.message),
            ('MethodNotFound', 'module spyglass_errors_fixture has no function compte; did you mean: compute?'),
        )
        e = self.error(names.find_function, 'spyglass_errors_fixture', 'Order', 'totl')
        self.assertEqual(
            (e.type, e.message),
            ('MethodNotFound', 'class spyglass_errors_fixture.Order has no method totl; did you mean: total?'),
        )
        e = self.error(names.find_function, 'spyglass_errors_fixtur', 'Order', 'total')
        self.assertEqual(e.type, 'ModuleNotFound')
        fn, where = names.find_function('spyglass_errors_fixture', 'Order', 'total')
        self.assertIs(fn, Order.total)
        self.assertEqual(where, 'spyglass_errors_fixture.Order.total')


if __name__ == '__main__':
    unittest.main()
