"""Thread names without side effects.

``threading.current_thread()`` on a thread that threading did not start (one started by a
C extension, or the agent's own loader, see src/attach/bootstrap.ts) registers a
``_DummyThread`` for it, which stays in ``threading.enumerate()`` of the target for good.
The agent only looks the name up.
"""

import threading

try:
    from _thread import get_ident
except ImportError:  # pragma: no cover
    from threading import get_ident


def thread_name():
    """The threading name of the calling thread, or its id. Taken at the time of a call: a
    short-lived thread (a request, a worker) is gone by the time its call is shown."""
    tid = get_ident()
    t = threading._active.get(tid)  # no lock and no call into the thread: a dict lookup
    return t.name if t is not None else str(tid)
