"""mem summary and diff: every object grouped by type (count, total sys.getsizeof).

gc.get_objects() only lists objects the collector tracks (containers); the atoms they
point at (str, int, float, bytes, and tuples/dicts the collector untracked) are found
through gc.get_referents and counted once each. "Once" needs a record of which atoms
were seen: a set of ids would cost ~100 bytes per atom (doubling a heap of strings),
so a bitmap per 4 KiB page of address space is used instead: 64 bytes per page that
holds any atom, under 2% of the heap. The one list made is gc.get_objects()'s own
(8 bytes per tracked object); no object is copied. Modules whose traversal visits a
free list are counted but never traversed (referents.py, docs/free-lists.md).
"""

import gc
import sys

from ...render import qualified_name
from . import referents

_PAGE_SHIFT = 12
_SLOT_SHIFT = 3  # objects are at least 8-byte aligned: 512 slots, 64 bytes a page


def summarize(should_stop=None, earlier=None):
    """{type: [count, total_size]} over the whole heap, and the number of objects seen.

    Ignores the bookkeeping of this call (the gc list, the per-type table, the bitmaps)
    and the table of an ``earlier`` summary still alive (diff's first one), so a diff
    does not show the agent's own lists."""
    getsizeof = sys.getsizeof
    is_tracked = gc.is_tracked
    get_referents = gc.get_referents
    table = {}
    pages = {}
    objects = gc.get_objects()
    mine = {id(objects), id(table), id(pages)}
    if earlier is not None:
        mine.add(id(earlier))
        mine.update(id(entry) for entry in earlier.values())
    seen = 0
    chunk = 2000
    for start in range(0, len(objects), chunk):
        if should_stop is not None and should_stop():
            break
        batch = [o for o in objects[start : start + chunk] if id(o) not in mine]
        for o in batch:
            t = type(o)
            entry = table.get(t)
            if entry is None:
                entry = table[t] = [0, 0]
            entry[0] += 1
            entry[1] += getsizeof(o, 0)
        seen += len(batch)
        # atoms: referents the collector does not track, each counted once
        if referents.UNSAFE_MODULES:
            batch = [o for o in batch if not referents.unsafe_module(o)]
        stack = get_referents(*batch)
        del batch
        while stack:
            r = stack.pop()
            if is_tracked(r):
                continue
            i = id(r)
            page = pages.get(i >> _PAGE_SHIFT)
            if page is None:
                page = pages[i >> _PAGE_SHIFT] = bytearray(1 << (_PAGE_SHIFT - _SLOT_SHIFT - 3))
            slot = (i >> _SLOT_SHIFT) & ((1 << (_PAGE_SHIFT - _SLOT_SHIFT)) - 1)
            mask = 1 << (slot & 7)
            if page[slot >> 3] & mask:
                continue
            page[slot >> 3] |= mask
            t = type(r)
            entry = table.get(t)
            if entry is None:
                entry = table[t] = [0, 0]
            entry[0] += 1
            entry[1] += getsizeof(r, 0)
            seen += 1
            # an untracked tuple/dict holds only atoms; they are not visited otherwise
            if t is tuple or t is dict or t is frozenset:
                stack.extend(get_referents(r))
    del objects
    return table, seen


def rows_of(table, limit, order):
    """The summary as rows for the client, sorted by total size, plus totals."""
    rows = [{'type': qualified_name(t), 'count': c, 'size': s} for t, (c, s) in table.items()]
    rows.sort(key=lambda r: (r['size'], r['count']), reverse=(order != 'ascending'))
    total_count = sum(r['count'] for r in rows)
    total_size = sum(r['size'] for r in rows)
    return {'rows': rows[:limit], 'types': len(rows), 'total_count': total_count, 'total_size': total_size}


def diff_of(before, after, limit, order):
    """Per-type changes between two summaries (signed), biggest growth first (descending)."""
    rows = []
    for t in set(before) | set(after):
        c0, s0 = before.get(t, (0, 0))
        c1, s1 = after.get(t, (0, 0))
        if c0 != c1 or s0 != s1:
            rows.append(
                {'type': qualified_name(t), 'count': c1, 'size': s1, 'count_delta': c1 - c0, 'size_delta': s1 - s0}
            )
    rows.sort(key=lambda r: (r['size_delta'], r['count_delta']), reverse=(order != 'ascending'))
    return {
        'rows': rows[:limit],
        'changed_types': len(rows),
        'count_delta': sum(r['count_delta'] for r in rows),
        'size_delta': sum(r['size_delta'] for r in rows),
    }
