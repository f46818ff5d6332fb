"""The time tunnel's record store: what each recorded call saw, bounded in memory.

A record keeps a snapshot of the call's arguments, result and exception, taken at call
time by deep copy, so that the application mutating an argument later does not rewrite
history. What cannot be copied (locks, sockets, generators...) is kept by reference and
marked as such; `self` is always kept by reference, because replay must act on the live
object, not on a copy of a service. The store is bounded by an estimate of the memory
its snapshots hold: past the cap the oldest records go first, and the caller is told. A
value estimated over the whole cap is neither copied nor kept: the record says so.
"""

import copy
import sys
import threading
import time

from ...threadnames import thread_name

FIRST_INDEX = 1000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

# sizing walks at most this many objects per value, then extrapolates from the sample
_SIZE_NODE_BUDGET = 2000
_SIZE_SAMPLE_ITEMS = 64


class Snapshot(object):
    """One value as the call saw it: a private deep copy, the live object when it cannot be
    copied, or nothing (kept is False) when it was too big to keep."""

    __slots__ = ('value', 'copied', 'why', 'size', 'kept')

    def __init__(self, value, copied, why=None, size=0, kept=True):
        self.value = value
        self.copied = copied
        # why the live object, or nothing, is kept instead of a copy (shown to the user)
        self.why = why
        # estimated bytes held by the copy
        self.size = size
        self.kept = kept

    def fresh(self):
        """The value to hand to a replayed call: a new copy, so the replay cannot alter the record."""
        if not self.copied:
            return self.value
        try:
            return copy.deepcopy(self.value)
        except Exception:
            return self.value


def snapshot(value, by_reference=None, max_bytes=None):
    """Deep-copies value; falls back to the live object (marked) when the copy fails. A value
    estimated over max_bytes is not copied at all (the copy alone could exhaust the
    target's memory) and not kept either (a reference would keep it alive)."""
    if by_reference is not None:
        return Snapshot(value, False, by_reference)
    size = approx_size(value)
    if max_bytes is not None and size > max_bytes:
        return not_kept(size, max_bytes)
    try:
        return Snapshot(copy.deepcopy(value), True, size=size)
    except BaseException as e:  # a custom __deepcopy__ may raise anything
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return Snapshot(value, False, 'not copyable: %s' % type(e).__name__)


def not_kept(size, cap):
    return Snapshot(
        None, False, 'not kept: ~%d MiB, over the %d MiB memory cap' % (size >> 20, max(1, cap >> 20)), kept=False
    )


def approx_size(value, budget=_SIZE_NODE_BUDGET):
    """Estimated bytes held by value and what it contains (sampled for big containers)."""
    if type(value) in _LEAF_TYPES:  # most arguments: no walk needed
        return sys.getsizeof(value)
    seen = set()
    # (object, weight): an item stands for `weight` items when a container was sampled
    stack = [(value, 1.0)]
    total = 0.0
    visited = 0
    while stack and visited < budget:
        obj, weight = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        visited += 1
        try:
            total += sys.getsizeof(obj) * weight
        except Exception:
            total += 64 * weight
        children = _children(obj)
        if children is None:
            continue
        items, length = children
        if length > _SIZE_SAMPLE_ITEMS:
            items = items[:_SIZE_SAMPLE_ITEMS]
            child_weight = weight * length / float(len(items) or 1)
        else:
            child_weight = weight
        for child in items:
            if type(child) in _LEAF_TYPES:
                # counted where met, without the walk's bookkeeping: a leaf shared by
                # several containers is counted more than once (an over-estimate is safe)
                total += sys.getsizeof(child) * child_weight
                visited += 1
            else:
                stack.append((child, child_weight))
    return int(total)


_LEAVES = (str, bytes, bytearray, int, float, complex, bool, type(None))
_LEAF_TYPES = frozenset(_LEAVES)


def _children(obj):
    """(some contained objects, how many there are in all), or None for a leaf."""
    if isinstance(obj, _LEAVES):
        return None
    try:
        if isinstance(obj, dict):
            n = len(obj)
            items = []
            for k, v in obj.items():
                items.append(k)
                items.append(v)
                if len(items) >= 2 * _SIZE_SAMPLE_ITEMS:
                    break
            return items, 2 * n
        if isinstance(obj, (list, tuple, set, frozenset)):
            n = len(obj)
            if isinstance(obj, (list, tuple)):
                return list(obj[:_SIZE_SAMPLE_ITEMS]), n
            items = []
            for x in obj:
                items.append(x)
                if len(items) >= _SIZE_SAMPLE_ITEMS:
                    break
            return items, n
        d = getattr(obj, '__dict__', None)
        if isinstance(d, dict):
            return [d], 1
    except Exception:
        return None
    return None


class Record(object):
    __slots__ = (
        'index',
        'timestamp',
        'cost_ms',
        'module',
        'cls',
        'method',
        'args',
        'kwargs',
        'result',
        'exception',
        'thread',
        'size',
        'values_dropped',
        'replay_of',
        'is_method',
        'nested',
    )

    def label(self):
        """`module.function` or `module.Class.method` (and `.nested` for -nm): how the record is named."""
        return '.'.join(
            [self.module] + ([self.cls] if self.cls else []) + [self.method] + ([self.nested] if self.nested else [])
        )

    def matches(self, path):
        """Whether tt -m `path` names this record's function: `module.Class.method`,
        `module.function`, or the reference's `module.None.function`."""
        names = [self.label()]
        if not self.cls:
            names.append('.'.join([self.module, 'None', self.method] + ([self.nested] if self.nested else [])))
        return path in names


class RecordStore(object):
    """The agent's records, indexed from 1000 like the reference tool; thread-safe."""

    def __init__(self, max_bytes=DEFAULT_MAX_BYTES):
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._records = {}  # index -> Record, in insertion (= index) order
        self._next = FIRST_INDEX
        self._bytes = 0
        self.dropped_for_cap = 0

    @property
    def bytes_held(self):
        return self._bytes

    def add(
        self,
        module,
        cls,
        method,
        is_method,
        args,
        kwargs,
        result,
        exception,
        cost_ms,
        timestamp=None,
        replay_of=None,
        nested=None,
        thread=None,
    ):
        """Stores one call (values are taken as given: Snapshot objects). Returns (record, dropped indexes)."""
        rec = Record()
        rec.timestamp = time.time() if timestamp is None else timestamp
        rec.cost_ms = cost_ms
        rec.module, rec.cls, rec.method, rec.is_method = module, cls, method, is_method
        rec.args, rec.kwargs, rec.result, rec.exception = args, kwargs, result, exception
        rec.thread = thread or thread_name()
        rec.replay_of = replay_of
        rec.nested = nested
        rec.values_dropped = not all(s.kept for s in _snapshots(rec))
        size = 256 + sum(s.size for s in _snapshots(rec) if s.copied)
        with self._lock:
            dropped = []
            if size > self.max_bytes:
                # one call alone is over the cap: keep that it happened, not what it carried
                _drop_values(rec, size, self.max_bytes)
                size = 256
            while self._records and self._bytes + size > self.max_bytes:
                oldest = next(iter(self._records))
                self._bytes -= self._records.pop(oldest).size
                dropped.append(oldest)
            self.dropped_for_cap += len(dropped)
            rec.index = self._next
            self._next += 1
            rec.size = size
            self._records[rec.index] = rec
            self._bytes += size
        return rec, dropped

    def get(self, index):
        with self._lock:
            return self._records.get(index)

    def list(self, method_path=None):
        with self._lock:
            recs = list(self._records.values())
        if method_path:
            recs = [r for r in recs if r.matches(method_path)]
        return recs

    def delete(self, index):
        with self._lock:
            rec = self._records.pop(index, None)
            if rec is not None:
                self._bytes -= rec.size
            return rec is not None

    def clear(self):
        """Deletes every record; the next one is numbered from 1000 again, as the reference's -da does."""
        with self._lock:
            n = len(self._records)
            self._records.clear()
            self._bytes = 0
            self._next = FIRST_INDEX
            return n

    def __len__(self):
        return len(self._records)


def _snapshots(rec):
    for s in rec.args:
        yield s
    for s in rec.kwargs.values():
        yield s
    if rec.result is not None:
        yield rec.result


def _drop_values(rec, size, cap):
    dropped = not_kept(size, cap)
    rec.args = tuple(dropped if s.copied else s for s in rec.args)
    rec.kwargs = dict((k, dropped if s.copied else s) for k, s in rec.kwargs.items())
    if rec.result is not None and rec.result.copied:
        rec.result = dropped
    rec.values_dropped = True
