"""The agent's own log: a file in the agent's private run directory, never the target's
stdout/stderr and never the `logging` module (whose handlers belong to the target and
would print our lines into its output). Lines go nowhere until open_file() is called.
"""

import os
import threading
import time

from .threadnames import thread_name

_MAX_BYTES = 1 << 20  # stop writing past 1 MiB: a log must not fill the disk

_lock = threading.Lock()
_state = {'fd': None, 'written': 0}


def _reset_lock_in_child():
    # another thread may have held it at os.fork(): in the child it would stay held
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_lock_in_child)


def open_file(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with _lock:
        old, _state['fd'] = _state['fd'], fd
        _state['written'] = 0
    if old is not None:
        os.close(old)


def close_file():
    with _lock:
        fd, _state['fd'] = _state['fd'], None
    if fd is not None:
        os.close(fd)


def _write(level, message):
    line = ('%s %s [%s] %s\n' % (time.strftime('%H:%M:%S'), level, thread_name(), message)).encode('utf-8', 'replace')
    with _lock:
        fd = _state['fd']
        if fd is None or _state['written'] > _MAX_BYTES:
            return
        _state['written'] += len(line)
        try:
            os.write(fd, line)
        except OSError:
            pass


def info(message):
    _write('INFO', message)


def error(message):
    _write('ERROR', message)
