"""Per-thread routing of sys.stdin / sys.stdout / sys.stderr / sys.displayhook, for the
console's code.

Swapping the process-wide streams for a buffer (what the reference tool does) would
capture what the target's own threads print meanwhile, and restoring `sys.__stdout__`
afterwards would undo any stream the application had installed. Instead a proxy is put
in front of the current stream while at least one console is open: writes from a thread
registered here go to that thread's sink, writes from every other thread go, unchanged,
to the stream that was there before. When the last console closes the original stream
is put back, unless the application replaced the proxy meanwhile, in which case its
choice is left alone (the proxy, if still referenced somewhere, just passes through).
sys.displayhook is routed the same way: the default one would set `builtins._`, which
applications using gettext rely on. sys.stdin too: `input()`, `help()` or pdb typed in
the console must ask the console's user, not read (and steal) the target's own stdin.
For a routed thread the proxies have no file descriptor, so that input() does not go to
the target's terminal through readline.
"""

import io
import sys
import threading

_lock = threading.Lock()
# thread ident -> {'stdin': readline() -> str ('' at end of input), 'stdout': write(text),
#                  'stderr': write(text), 'displayhook': fn(value)}
_sinks = {}
_installed = {}  # 'stdin'/'stdout'/'stderr'/'displayhook' -> the proxy put in place
_STREAMS = ('stdin', 'stdout', 'stderr')


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

    def readline(self, size=-1):
        sink = self._sink()
        if sink is None:
            return self._original.readline(size)
        return sink()

    def read(self, size=-1):
        sink = self._sink()
        if sink is None:
            return self._original.read(size)
        lines = []  # what the console's user types until Ctrl-D
        for line in iter(sink, ''):
            lines.append(line)
        return ''.join(lines)

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def isatty(self):
        if self._sink() is not None:
            return False
        return self._original.isatty()

    def fileno(self):
        if self._sink() is not None:
            raise io.UnsupportedOperation('the console has no file descriptor')
        return self._original.fileno()

    # A stream is not copied: a copy (tt's deep copy of an argument holding sys.stdout,
    # the application's own copy) is the proxy itself, as good as the stream it stands for.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __getattr__(self, attr):
        # encoding, errors, buffer, fileno... of the stream the target really has. Read from
        # __dict__: a proxy made without __init__ (copy.copy, deepcopy, pickle probe for
        # __setstate__ on an empty object) would otherwise look `_original` up through
        # this very method until RecursionError, raised in whoever copied the stream.
        try:
            original = self.__dict__['_original']
        except KeyError:
            raise AttributeError(attr) from None
        return getattr(original, attr)

    def __setattr__(self, attr, value):
        if '_original' not in self.__dict__:
            self.__dict__[attr] = value  # being rebuilt by copy/pickle: its own state
            return
        setattr(self.__dict__['_original'], attr, value)


class _RoutedDisplayhook(object):
    def __init__(self, original):
        self._original = original

    def __call__(self, value):
        sinks = _sinks.get(threading.get_ident())
        if sinks is None:
            return self._original(value)
        return sinks['displayhook'](value)


def route_current_thread(stdin_readline, stdout_write, stderr_write, displayhook):
    """Gives this thread's input and output to the given functions until unroute_current_thread()."""
    with _lock:
        if not _sinks:
            for name in _STREAMS:
                original = getattr(sys, name)
                # no stdin (a daemon's, closed): the application's `sys.stdin is None` stays true
                if original is not None or name != 'stdin':
                    _install(name, _RoutedStream(name, original))
            _install('displayhook', _RoutedDisplayhook(sys.displayhook))
        _sinks[threading.get_ident()] = {
            'stdin': stdin_readline,
            'stdout': stdout_write,
            'stderr': stderr_write,
            'displayhook': displayhook,
        }


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
