"""The agent: a Unix socket server in the target, one Connection per client.

Peers are checked with SO_PEERCRED: only the target's own user and root may talk to the
agent (the 0700 directory already keeps others from reaching the socket; the check holds
even if someone loosens the modes). Nothing listens on TCP.
"""

import atexit
import os
import socket
import struct
import sys
import threading
import time
import traceback

from . import hooks, log, rundir
from .connection import Connection
from .protocol import encode

SYS_ATTR = '_spyglass_agent'  # the one name the agent keeps outside its own modules
_PACKAGE_NAME = __name__.rpartition('.')[0]
_PACKAGE = sys.modules.get(_PACKAGE_NAME)  # this load of the package (the bootstrap registers it first)


class Agent(object):
    def __init__(self, socket_path, version):
        self.socket_path = socket_path
        self.version = version
        self.pid = os.getpid()
        self.started_at = time.time()
        self._lock = threading.Lock()
        self._connections = set()
        self._numbers = 0
        self._stopping = False
        self._unregistered = False
        self._listener = None
        self._thread = None
        self._shared = {}  # name -> what every client sees until the agent stops (tt's records)

    def start(self):
        self._listener = rundir.listen(self.socket_path)
        try:
            log.open_file(os.path.join(os.path.dirname(self.socket_path), rundir.LOG_NAME))
        except OSError:
            pass  # no log then; the agent works without one
        log.info('agent %s listening on %s (python %s)' % (self.version, self.socket_path, sys.version.split()[0]))
        # daemon given here: left to default, Thread() would ask current_thread(), which on the
        # bootstrap's loader thread (not started by threading) leaves a dummy entry behind
        self._thread = threading.Thread(target=self._accept_loop, name='spyglass-agent', daemon=True)
        self._thread.start()
        # a target that exits with the agent loaded takes its socket and directory along
        # (a kill -9 cannot: the client sweeps those, src/channel/stale-dirs.ts)
        atexit.register(self._at_exit)

    def _at_exit(self):
        if self.pid == os.getpid():  # a forked child inherits the handler, not the directory
            rundir.remove(self.socket_path)

    def alive(self):
        """False in a forked child (the threads did not survive fork) or once stopped."""
        return (
            self.pid == os.getpid()
            and not self._stopping
            and not self._unregistered
            and self._thread is not None
            and self._thread.is_alive()
        )

    def connections(self):
        with self._lock:
            return list(self._connections)

    def _accept_loop(self):
        hooks.unobserved_thread()
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                if self._stopping:
                    return
                time.sleep(0.05)  # e.g. EMFILE: the target is out of fds; retry later
                continue
            try:
                self._admit(sock)
            except Exception:
                log.error('accept failed: %s' % traceback.format_exc())
                sock.close()

    def _admit(self, sock):
        pid, uid, gid = struct.unpack(
            '3i', sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize('3i'))
        )
        if uid != 0 and uid != os.geteuid():
            log.info('refused pid %d uid %d' % (pid, uid))
            sock.settimeout(1)
            try:
                sock.sendall(
                    encode(
                        {
                            'error': {
                                'type': 'PermissionDenied',
                                'message': 'uid %d may not use the agent of process %d (owned by uid %d)'
                                % (uid, self.pid, os.geteuid()),
                                'hint': 'run spyglass as the same user as the target, or as root',
                            }
                        }
                    )
                )
            except OSError:
                pass
            sock.close()
            return
        with self._lock:
            if self._stopping:
                sock.close()
                return
            self._numbers += 1
            conn = Connection(self, sock, self._numbers, (pid, uid, gid))
            self._connections.add(conn)
        log.info('client %d: pid %d uid %d' % (conn.number, pid, uid))
        conn.start()

    def shared(self, name, make):
        """The agent-wide object ``name``, made by make() on first use: state that belongs to
        no client (tt's records outlive the client that made them) and goes when the agent
        stops."""
        with self._lock:
            obj = self._shared.get(name)
            if obj is None:
                obj = self._shared[name] = make()
            return obj

    def forget(self, conn):
        with self._lock:
            self._connections.discard(conn)

    def unregister(self):
        """Makes the agent unreachable and forgotten at once: its socket and files go, and
        sys no longer points at it or at its modules, so any attach from now on starts a
        fresh agent. stop() begins with this; `shutdown` calls it before answering, since
        its client may attach again as soon as it has the answer, before stop() runs (a
        late stop() would then remove the new agent's socket and modules)."""
        with self._lock:
            if self._unregistered:
                return
            self._unregistered = True
        rundir.remove(self.socket_path)
        atexit.unregister(self._at_exit)
        if getattr(sys, SYS_ATTR, None) is self:
            delattr(sys, SYS_ATTR)
        if sys.modules.get(_PACKAGE_NAME) is _PACKAGE:  # not the modules of a newer agent
            for name in [m for m in sys.modules if m == _PACKAGE_NAME or m.startswith(_PACKAGE_NAME + '.')]:
                del sys.modules[name]

    def stop(self):
        """Removes every client's hooks, closes every connection and the socket, removes
        the agent's files and unregisters it: the target is as before the attach."""
        self.unregister()
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            connections = list(self._connections)
        for conn in connections:
            conn.close()
        with self._lock:
            shared, self._shared = list(self._shared.values()), {}
        for obj in shared:
            clear = getattr(obj, 'clear', None)
            if clear is not None:
                clear()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept() on Linux
        except OSError:
            pass
        self._listener.close()
        if self._thread is not threading.current_thread():
            self._thread.join(2)
        log.info('agent stopped')
        log.close_file()
