"""mem's summary: tracked objects and untracked atoms counted once each (however many
containers share them), atoms inside untracked tuples found, the agent's own tables left
out, the diff's signed deltas."""

import gc
import sys
import unittest

from _load import agent_package

agent_package()
from _spyglass_agent.commands.mem import summary  # noqa: E402


class Marker(object):
    pass


class SummaryTest(unittest.TestCase):
    def count(self, table, t):
        return table.get(t, (0, 0))[0]

    def test_tracked_and_shared_atoms_count_once(self):
        before, _ = summary.summarize()
        shared = range(12345)  # an untracked atom of a type the process barely uses
        self.assertFalse(gc.is_tracked(shared))
        keep = [Marker() for _ in range(37)]
        holders = [[shared] for _ in range(50)]  # fifty lists, one atom
        nested = ((range(7),),)
        gc.collect()  # untracks the tuples that hold only atoms
        after, seen = summary.summarize()
        self.assertEqual(self.count(after, Marker) - self.count(before, Marker), 37)
        self.assertEqual(self.count(after, range) - self.count(before, range), 2)
        self.assertEqual(
            after[range][1] - before.get(range, (0, 0))[1], sys.getsizeof(shared) + sys.getsizeof(nested[0][0])
        )
        self.assertGreater(seen, 1000)
        del keep, holders, nested

    def test_a_diff_does_not_see_its_own_first_table(self):
        before, _ = summary.summarize()
        after, _ = summary.summarize(earlier=before)
        self.assertEqual(self.count(after, list) - self.count(before, list), 0)
        self.assertEqual(self.count(after, bytearray) - self.count(before, bytearray), 0)

    def test_rows_and_diff(self):
        table = {int: [10, 280], str: [3, 150], Marker: [2, 96]}
        rows = summary.rows_of(table, 2, 'descending')
        self.assertEqual([r['type'] for r in rows['rows']], ['int', 'str'])
        self.assertEqual((rows['total_count'], rows['total_size'], rows['types']), (15, 526, 3))
        self.assertEqual(summary.rows_of(table, 1, 'ascending')['rows'][0]['type'], __name__ + '.Marker')
        d = summary.diff_of(
            {int: (10, 280), str: (3, 150)}, {int: (4, 112), str: (3, 150), Marker: (2, 96)}, 10, 'descending'
        )
        self.assertEqual(
            [(r['type'], r['count_delta'], r['size_delta']) for r in d['rows']],
            [(__name__ + '.Marker', 2, 96), ('int', -6, -168)],
        )
        self.assertEqual((d['changed_types'], d['count_delta'], d['size_delta']), (2, -4, -72))


# Run in a child process: on an interpreter where the walk corrupts the free list, the
# collection after it never returns (docs/free-lists.md).
_FREE_LIST_CHILD = r"""
import asyncio, gc, sys
sys.path.insert(0, sys.argv[1])
from _load import agent_package
agent_package()
from _spyglass_agent.commands.mem import summary
loop = asyncio.new_event_loop()
parked = [iter(loop.create_future()) for _ in range(3)]
del parked  # three FutureIter objects on _asyncio's free list
summary.summarize()
summary.summarize()
gc.collect()
print('collected', flush=True)
"""


class FreeListTest(unittest.TestCase):
    def test_summary_leaves_asyncio_free_list_intact(self):
        import os
        import subprocess

        here = os.path.dirname(os.path.abspath(__file__))
        try:
            r = subprocess.run(
                [sys.executable, '-c', _FREE_LIST_CHILD, here], capture_output=True, text=True, timeout=30
            )
        except subprocess.TimeoutExpired:
            self.fail('a full collection after mem summary never ended (free list corrupted)')
        self.assertEqual((r.returncode, r.stdout.strip(), r.stderr), (0, 'collected', ''))

    def test_affected_versions(self):
        import collections
        from _spyglass_agent.commands.mem import referents

        V = collections.namedtuple('V', 'major minor micro releaselevel serial')
        affected = referents._asyncio_traverses_free_list
        self.assertTrue(affected(V(3, 12, 0, 'final', 0)))
        self.assertTrue(affected(V(3, 12, 5, 'final', 0)))
        self.assertFalse(affected(V(3, 12, 6, 'final', 0)))
        self.assertTrue(affected(V(3, 13, 0, 'candidate', 1)))
        self.assertFalse(affected(V(3, 13, 0, 'candidate', 2)))
        self.assertFalse(affected(V(3, 13, 0, 'final', 0)))
        self.assertFalse(affected(V(3, 11, 7, 'final', 0)))
        self.assertEqual(referents.UNSAFE_MODULES == {'_asyncio'}, affected(sys.version_info))


if __name__ == '__main__':
    unittest.main()
