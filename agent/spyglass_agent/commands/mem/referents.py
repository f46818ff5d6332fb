"""Which objects may be handed to gc.get_referents on this interpreter.

A module whose traversal visits a free list makes gc.get_referents return objects that
were already freed; dropping them frees them again and the free list loops, after which
the target's next full garbage collection never ends (docs/free-lists.md: the _asyncio
module on 3.12.0-3.12.5 and 3.13 before rc2, CPython gh-122695).
"""

import sys
import types


def _asyncio_traverses_free_list(v):
    if v[:2] == (3, 12):
        return v[2] < 6
    if v[:2] == (3, 13) and v[2] == 0:
        return v.releaselevel in ('alpha', 'beta') or (v.releaselevel == 'candidate' and v.serial < 2)
    return False


# names of the extension modules whose traversal visits a free list here
UNSAFE_MODULES = frozenset(['_asyncio'] if _asyncio_traverses_free_list(sys.version_info) else [])


def unsafe_module(o):
    """True for a module object gc.get_referents must not be given (any copy of it: an
    extension module imported again after `del sys.modules[...]` has its own state)."""
    if not UNSAFE_MODULES or not issubclass(type(o), types.ModuleType):  # no __class__ lookup
        return False
    d = getattr(o, '__dict__', None)  # the instance dict: no module __getattr__ runs
    return isinstance(d, dict) and d.get('__name__') in UNSAFE_MODULES
