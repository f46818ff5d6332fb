"""vmtool's two jobs: the live instances of a class, and a full garbage collection."""

import gc
import threading
import time

# the agent's top-level package (loaded under a private name): its objects are not the user's
_AGENT_PACKAGE = __name__.split('.')[0]


def class_family(cls):
    """cls and every subclass of it, recursively (type's own subclasses need the unbound call)."""
    family = [cls]
    seen = {cls}
    i = 0
    while i < len(family):
        try:
            subs = type.__subclasses__(family[i])
        except TypeError:
            subs = []
        for s in subs:
            if s not in seen:
                seen.add(s)
                family.append(s)
        i += 1
    return family


def instances_of(cls):
    """Live instances of cls and its subclasses, oldest-tracked first.

    Instances of classes defined in Python refer to their class, so the collector's
    gc.get_referrers finds them without building a list of the whole heap; a builtin
    class (whose instances do not) falls back to scanning gc.get_objects(). Objects the
    collector does not track (e.g. dicts of only atoms) cannot be found this way.
    """
    family = class_family(cls)
    kinds = set(family)
    heap_types = all(getattr(c, '__flags__', 0) & (1 << 9) for c in family)  # Py_TPFLAGS_HEAPTYPE
    pool = gc.get_referrers(*family) if heap_types else gc.get_objects()
    found = [o for o in pool if type(o) in kinds and not _agents_own(o)]
    del pool
    return found


def _agents_own(o):
    """Whether o belongs to the agent (its objects; the threads it runs, which a user asking
    for threading.Thread instances would otherwise see next to their own)."""
    if _in_agent(type(o)):
        return True
    return isinstance(o, threading.Thread) and _in_agent(getattr(o, '_target', None))


def _in_agent(what):
    module = getattr(what, '__module__', None)
    return isinstance(module, str) and module.split('.')[0] == _AGENT_PACKAGE


def force_gc():
    """Collects each generation in turn (together a full collection); counts and times each."""
    before = gc.get_count()
    generations = []
    start = time.perf_counter()
    for gen in range(len(gc.get_count())):
        t0 = time.perf_counter()
        collected = gc.collect(gen)
        generations.append({'generation': gen, 'collected': collected, 'ms': (time.perf_counter() - t0) * 1000.0})
    total_ms = (time.perf_counter() - start) * 1000.0
    return {
        'generations': generations,
        'collected': sum(g['collected'] for g in generations),
        'ms': total_ms,
        'uncollectable': len(gc.garbage),
        'counts_before': list(before),
        'counts_after': list(gc.get_count()),
        'enabled': gc.isenabled(),
        'thresholds': list(gc.get_threshold()),
    }
