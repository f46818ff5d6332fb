"""tt's record store: snapshots are private copies (or marked references), sizes are
estimated quickly even for huge values, and the memory cap drops the oldest records."""

import sys
import threading
import unittest

from _load import agent_package

agent_package()
from _spyglass_agent.commands.tt import tt_records  # noqa: E402
from _spyglass_agent.commands.tt.tt_records import RecordStore, approx_size, snapshot  # noqa: E402


def add(store, value):
    return store.add('m', None, 'f', False, (snapshot(value),), {}, snapshot(None), None, 1.0)


class SnapshotTest(unittest.TestCase):
    def test_copy_is_private(self):
        arg = {'items': [1, 2]}
        snap = snapshot(arg)
        arg['items'].append(1000)
        self.assertTrue(snap.copied)
        self.assertEqual(snap.value, {'items': [1, 2]})
        fresh = snap.fresh()
        fresh['items'].append(5)
        self.assertEqual(snap.value, {'items': [1, 2]}, 'a replay must not alter the record')

    def test_value_over_the_cap_is_neither_copied_nor_kept(self):
        class NoCopy(object):
            def __deepcopy__(self, memo):
                raise AssertionError('a value over the cap must not be copied')

        huge = [NoCopy()] + [b'x' * 1024] * 4096  # ~4 MiB
        snap = snapshot(huge, max_bytes=1 << 20)
        self.assertEqual((snap.value, snap.copied, snap.kept), (None, False, False))
        self.assertRegex(snap.why, r'^not kept: ~4 MiB, over the 1 MiB memory cap$')
        store = RecordStore(max_bytes=1 << 20)
        rec, _ = store.add('m', None, 'f', False, (snap,), {}, snapshot(None), None, 1.0)
        self.assertTrue(rec.values_dropped)
        small = snapshot([1, 2], max_bytes=1 << 20)
        self.assertEqual((small.copied, small.kept, small.size), (True, True, approx_size([1, 2])))

    def test_not_copyable_is_kept_by_reference_and_marked(self):
        lock = threading.Lock()
        snap = snapshot({'lock': lock})
        self.assertFalse(snap.copied)
        self.assertIs(snap.value['lock'], lock)
        self.assertEqual(snap.why, 'not copyable: TypeError')
        self.assertIs(snap.fresh()['lock'], lock)


class SizeTest(unittest.TestCase):
    def test_small_values_are_exact(self):
        self.assertEqual(approx_size(7), sys.getsizeof(7))
        value = {'a': 'x' * 100, 'b': [1, 2, 3]}
        exact = sum(sys.getsizeof(o) for o in (value, 'a', 'x' * 100, 'b', value['b'], 1, 2, 3))
        self.assertEqual(approx_size(value), exact)

    def test_huge_values_are_sampled_and_close(self):
        huge = [str(i) * 3 for i in range(1000000)]
        exact = sys.getsizeof(huge) + sum(sys.getsizeof(s) for s in huge)
        calls = []

        class CountingSys(object):
            def getsizeof(self, obj):
                calls.append(1)
                return sys.getsizeof(obj)

        tt_records.sys = CountingSys()
        try:
            estimate = approx_size(huge)
        finally:
            tt_records.sys = sys
        # a sample was sized, not the million items
        self.assertLessEqual(len(calls), 1 + tt_records._SIZE_SAMPLE_ITEMS)
        self.assertLess(abs(estimate - exact) / float(exact), 0.25)

    def test_cycles_end(self):
        a = [1]
        a.append(a)
        self.assertEqual(approx_size(a), sys.getsizeof(a) + sys.getsizeof(1))


class StoreTest(unittest.TestCase):
    def test_indexes_from_1000_and_cap_drops_oldest(self):
        store = RecordStore(max_bytes=300000)
        first, dropped = add(store, b'x' * 100000)
        self.assertEqual((first.index, dropped), (1000, []))
        add(store, b'x' * 100000)
        third, dropped = add(store, b'x' * 100000)
        self.assertEqual((third.index, dropped), (1002, [1000]))
        self.assertLessEqual(store.bytes_held, store.max_bytes)
        self.assertEqual([r.index for r in store.list()], [1001, 1002])
        self.assertEqual(store.dropped_for_cap, 1)

    def test_a_call_over_the_cap_keeps_only_that_it_happened(self):
        store = RecordStore(max_bytes=1 << 20)
        rec, _ = add(store, b'x' * (2 << 20))
        self.assertTrue(rec.values_dropped)
        self.assertIsNone(rec.args[0].value)
        self.assertIn('over the 1 MiB memory cap', rec.args[0].why)
        self.assertLess(store.bytes_held, 1024)

    def test_delete_and_clear_release_bytes(self):
        store = RecordStore()
        rec, _ = add(store, list(range(1000)))
        add(store, 'x')
        self.assertTrue(store.delete(rec.index))
        self.assertFalse(store.delete(rec.index))
        self.assertEqual(store.clear(), 1)
        self.assertEqual((store.bytes_held, len(store)), (0, 0))
        # numbered from 1000 again after clear (-da), as the reference's tt
        self.assertEqual(add(store, 1)[0].index, 1000)


if __name__ == '__main__':
    unittest.main()
