"""Ownership: everything a client creates (hooks, recordings, helper threads) is registered
in a Scope, so that cancel, reset, detach and a dead connection can undo all of it.

A connection has one scope; each request gets a child scope. Closing a scope runs its
cleanups (newest first) and those of its children. A closed scope refuses new resources
by running their cleanup at once, so a hook installed by a request that was cancelled
meanwhile never stays behind.
"""

import threading

from . import log


class Scope(object):
    def __init__(self, name, parent=None):
        self.name = name
        self._lock = threading.Lock()
        self._cleanups = []  # [(label, fn)]
        self._children = []
        self._closed = False
        self._parent = parent
        if parent is not None:
            parent._adopt(self)

    def child(self, name):
        return Scope(name, self)

    @property
    def closed(self):
        return self._closed

    def _adopt(self, child):
        with self._lock:
            if not self._closed:
                self._children.append(child)
                return
        child.close()

    def add(self, label, cleanup):
        """Registers cleanup() to run when the scope is released. Returns a function that
        forgets it again (for resources removed early, e.g. a handle removed by hand)."""
        entry = (label, cleanup)
        with self._lock:
            if not self._closed:
                self._cleanups.append(entry)
                return lambda: self._forget(entry)
        _run(entry)
        return lambda: None

    def _forget(self, entry):
        with self._lock:
            try:
                self._cleanups.remove(entry)
            except ValueError:
                pass

    def release_all(self):
        """Runs every cleanup of this scope and its children; the scope stays usable.
        Returns how many resources were released."""
        with self._lock:
            cleanups, self._cleanups = self._cleanups, []
            children, self._children = self._children, []
        count = 0
        for c in reversed(children):
            count += c.close()
        for entry in reversed(cleanups):
            _run(entry)
            count += 1
        return count

    def close(self):
        with self._lock:
            already = self._closed
            self._closed = True
        if already:
            return 0
        count = self.release_all()
        parent = self._parent
        if parent is not None:
            with parent._lock:
                try:
                    parent._children.remove(self)
                except ValueError:
                    pass
        return count


def _run(entry):
    label, fn = entry
    try:
        fn()
    except Exception as e:  # a failing cleanup must not stop the others
        log.error('cleanup %s failed: %r' % (label, e))
