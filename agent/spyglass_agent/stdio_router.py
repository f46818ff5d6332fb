"""Per-thread routing of sys.stdout / sys.stderr / sys.displayhook, for the console's code.

Swapping the process-wide streams for a buffer (what the reference tool does) would
capture what the target's own threads print meanwhile, and restoring `sys.__stdout__`
afterwards would undo any stream the application had installed. Instead a proxy is put
in front of the current stream while at least one console is open: writes from a thread
registered here go to that thread's sink, writes from every other thread go, unchanged,
to the stream that was there before. When the last console closes the original stream
is put back, unless the application replaced the proxy meanwhile, in which case its
choice is left alone (the proxy, if still referenced somewhere, just passes through).
sys.displayhook is routed the same way: the default one would set `builtins._`, which
applications using gettext rely on.
"""
import sys
import threading

_lock = threading.Lock()
_sinks = {}  # thread ident -> {'stdout': write(text), 'stderr': write(text), 'displayhook': fn(value)}
_installed = {}  # 'stdout'/'stderr'/'displayhook' -> the proxy put in place


class _RoutedStream(object):
    def __init__(self, name, original):
        # set through __dict__ so __getattr__ forwarding never sees half-built state
        self.__dict__['_name'] = name
        self.__dict__['_original'] = original

    def _sink(self):
        sinks = _sinks.get(threading.get_ident())
        return sinks[self._name] if sinks else None

    def write(self, text):
        sink = self._sink()
        if sink is None:
            return self._original.write(text)
        sink(text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        if self._sink() is None:
            return self._original.flush()

    def isatty(self):
        if self._sink() is not None:
            return False
        return self._original.isatty()

    def __getattr__(self, attr):
        # encoding, errors, buffer, fileno... of the stream the target really has
        return getattr(self._original, attr)

    def __setattr__(self, attr, value):
        setattr(self._original, attr, value)


class _RoutedDisplayhook(object):
    def __init__(self, original):
        self._original = original

    def __call__(self, value):
        sinks = _sinks.get(threading.get_ident())
        if sinks is None:
            return self._original(value)
        return sinks['displayhook'](value)


def route_current_thread(stdout_write, stderr_write, displayhook):
    """Sends this thread's output to the given functions until unroute_current_thread()."""
    with _lock:
        if not _sinks:
            for name in ('stdout', 'stderr'):
                _install(name, _RoutedStream(name, getattr(sys, name)))
            _install('displayhook', _RoutedDisplayhook(sys.displayhook))
        _sinks[threading.get_ident()] = {'stdout': stdout_write, 'stderr': stderr_write, 'displayhook': displayhook}


def _install(name, proxy):
    _installed[name] = proxy
    setattr(sys, name, proxy)


def unroute_current_thread():
    unroute_thread(threading.get_ident())


def unroute_thread(ident):
    with _lock:
        if _sinks.pop(ident, None) is None or _sinks:
            return
        for name, proxy in list(_installed.items()):
            if getattr(sys, name) is proxy:
                setattr(sys, name, proxy._original)
            del _installed[name]


def routed_thread_count():
    return len(_sinks)
