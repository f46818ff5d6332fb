"""Thread names without side effects.

``threading.current_thread()`` on a thread that threading did not start (one started by a
C extension, or the agent's own loader, see src/attach/bootstrap.ts) registers a
``_DummyThread`` for it, which stays in ``threading.enumerate()`` of the target for good.
The agent only looks the name up.
"""

import threading

try:
    from _thread import get_ident, get_native_id
except ImportError:  # pragma: no cover
    from threading import get_ident, get_native_id


def thread_name():
    """The threading name of the calling thread, or its id. Taken at the time of a call: a
    short-lived thread (a request, a worker) is gone by the time its call is shown."""
    tid = get_ident()
    t = threading._active.get(tid)  # no lock and no call into the thread: a dict lookup
    return t.name if t is not None else str(tid)


def thread_info():
    """(name, OS thread id, daemon) of the calling thread, as `trace` heads a call with them
    (daemon is None for a thread threading did not start)."""
    tid = get_ident()
    t = threading._active.get(tid)
    if t is None:
        return str(tid), get_native_id(), None
    return t.name, get_native_id(), t.daemon
