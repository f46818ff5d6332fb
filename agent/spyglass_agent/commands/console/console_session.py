"""An interactive Python console running inside the target, fed one line at a time.

Code runs on the console's own daemon thread. What it prints (print, tracebacks, the
value of an expression) is routed to the console only (stdio_router), so the target's
threads keep their own stdout/stderr. Nothing typed here can end the target: `exit()`,
`quit()` and `sys.exit()` end the console; exceptions are shown, never propagated.
Names of the target's `__main__` can be read directly; assignments stay in the
console's own namespace (`import __main__` to change the target's globals).
"""

import code
import itertools
import rlcompleter
import sys
import threading
import time

from ... import render
from . import stdio_router

try:
    import ctypes
except ImportError:  # a build without _ctypes: Ctrl-C then only clears the input buffer
    ctypes = None

PS1 = '>>> '
PS2 = '... '

_counter = itertools.count(1)
_EOF = object()
_INTERRUPT = object()


class _LeaveConsole(object):
    """`exit` and `quit` in the console: leave it (site's versions would close sys.stdin)."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return 'Use %s() or Ctrl-D to leave the console (the target keeps running)' % self._name

    def __call__(self, code=None):
        raise SystemExit(code)


class _Namespace(dict):
    """The console's globals: its own names first, then the target's `__main__`, read-only."""

    def __missing__(self, name):
        main = sys.modules.get('__main__')
        main_dict = getattr(main, '__dict__', None)
        if main_dict is not None and name in main_dict and not name.startswith('__'):
            return main_dict[name]
        raise KeyError(name)

    def visible_names(self):
        main = sys.modules.get('__main__')
        names = dict((k, v) for k, v in getattr(main, '__dict__', {}).items() if not k.startswith('__'))
        names.update(self)
        return names


class ConsoleSession(code.InteractiveConsole):
    """One console. `emit(event, data)` sends to the client; feed() / interrupt() / complete() come from it."""

    def __init__(self, emit):
        ns = _Namespace(__name__='__console__', __doc__=None, exit=_LeaveConsole('exit'), quit=_LeaveConsole('quit'))
        code.InteractiveConsole.__init__(self, ns, filename='<console>')
        self._emit = emit
        self._inbox = []
        self._inbox_ready = threading.Condition()
        self._busy_lock = threading.Lock()
        self._busy = False
        self._statements = 0  # counts statements run, so a late watcher can tell them apart
        self._thread = None
        self.finished = threading.Event()
        self.exit_reason = None

    # -- called from the agent (client side of the console) --------------------------

    def start(self):
        self._thread = threading.Thread(target=self._run, name='spyglass-console-%d' % next(_counter))
        self._thread.daemon = True
        self._thread.start()

    def feed(self, text):
        """One or more lines typed (or pasted) by the user."""
        for line in text.split('\n'):
            self._post(line)

    def eof(self):
        self._post(_EOF)

    def interrupt(self):
        """Ctrl-C: stops the running statement (async KeyboardInterrupt), or clears a half-typed one."""
        with self._busy_lock:
            if self._busy and self._thread is not None:
                if _raise_in_thread(self._thread.ident, KeyboardInterrupt):
                    watcher = threading.Thread(
                        target=self._warn_if_stuck, args=(self._statements,), name='spyglass-console-watch'
                    )
                    watcher.daemon = True
                    watcher.start()
                    return
        self._post(_INTERRUPT)

    def complete(self, text):
        """Completions of the word being typed, from the names the console can see."""
        completer = rlcompleter.Completer(self.locals.visible_names())
        out = []
        for state in range(500):
            try:
                match = completer.complete(text, state)
            except Exception:
                break
            if match is None:
                break
            out.append(match)
        return out

    # -- the console's thread --------------------------------------------------------

    def _post(self, item):
        with self._inbox_ready:
            self._inbox.append(item)
            self._inbox_ready.notify()

    def _next_input(self):
        with self._inbox_ready:
            while not self._inbox:
                self._inbox_ready.wait()
            return self._inbox.pop(0)

    def _run(self):
        stdio_router.route_current_thread(
            self._read_line,
            lambda text: self._emit('output', {'stream': 'stdout', 'text': text}),
            lambda text: self._emit('output', {'stream': 'stderr', 'text': text}),
            self._display,
        )
        try:
            self._emit(
                'output',
                {
                    'stream': 'stdout',
                    'text': 'Python %s in process %d (spyglass console, a RemoteInteractiveConsole; Ctrl-D or exit() leaves it, the target keeps '
                    'running)\n' % (sys.version.split()[0], _pid()),
                },
            )
            more = False
            while True:
                try:
                    self._emit('prompt', {'prompt': PS2 if more else PS1})
                    item = self._next_input()
                    if item is _EOF:
                        self.exit_reason = 'eof'
                        break
                    if item is _INTERRUPT:
                        self.resetbuffer()
                        more = False
                        self.write('KeyboardInterrupt\n')
                        continue
                    more = self.push(item)
                except KeyboardInterrupt:
                    # landed outside the user's statement (just after it ended)
                    self.resetbuffer()
                    more = False
                    self.write('KeyboardInterrupt\n')
                except _ConsoleExit as e:
                    self.exit_reason = e.reason
                    break
        finally:
            stdio_router.unroute_current_thread()
            self.finished.set()

    def runcode(self, compiled):
        with self._busy_lock:
            self._busy = True
            self._statements += 1
        try:
            try:
                exec(compiled, self.locals)
            finally:
                self._not_busy()
        except SystemExit as e:
            raise _ConsoleExit('exit(%s)' % ('' if e.code is None else render.text(e.code)))
        except BaseException:
            self.showtraceback()

    def _not_busy(self):
        # an interrupt sent as the statement ended may still be pending: clear it while
        # holding the lock interrupt() takes, so none can arrive after this point
        while True:
            try:
                with self._busy_lock:
                    self._busy = False
                    _raise_in_thread(threading.get_ident(), None)
                return
            except KeyboardInterrupt:
                continue

    def _read_line(self):
        """A line for input() / sys.stdin of the code typed here: asked of the console's user
        (the prompt input() wrote is shown before it); '' for Ctrl-D, as at end of file."""
        self._emit('prompt', {'prompt': ''})
        item = self._next_input()
        if item is _EOF:
            return ''
        if item is _INTERRUPT:
            raise KeyboardInterrupt
        return item + '\n'

    def _display(self, value):
        if value is None:
            return
        self.locals['_'] = value
        text = render.text(value, render.CHARS_RAW, raw=True)
        self._emit('output', {'stream': 'stdout', 'text': text + '\n'})

    def _warn_if_stuck(self, statement):
        time.sleep(1.0)
        with self._busy_lock:
            stuck = self._busy and self._statements == statement
        if stuck:
            self._emit(
                'output',
                {
                    'stream': 'stderr',
                    'text': 'KeyboardInterrupt sent; the statement is blocked in native code and stops when it returns to Python\n',
                },
            )

    def write(self, data):
        # tracebacks and messages of InteractiveInterpreter: to this console's stderr
        self._emit('output', {'stream': 'stderr', 'text': data})


class _ConsoleExit(Exception):
    def __init__(self, reason):
        Exception.__init__(self, reason)
        self.reason = reason


def _raise_in_thread(ident, exc_type):
    """PyThreadState_SetAsyncExc: raise exc_type in the thread at its next bytecode (None clears)."""
    if _set_async_exc is None or ident is None:
        return False
    if exc_type is None:
        # py_object() is a NULL pointer, which clears a pending exception
        return _set_async_exc(ident, ctypes.py_object()) >= 0
    return _set_async_exc(ident, exc_type) == 1


def _bind_set_async_exc():
    # a private prototype: setting argtypes on ctypes.pythonapi's shared attribute
    # would change it for the target's own code too
    if ctypes is None:
        return None
    try:
        proto = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)
        return proto(('PyThreadState_SetAsyncExc', ctypes.pythonapi))
    except (AttributeError, OSError):
        return None


_set_async_exc = _bind_set_async_exc()


def _pid():
    import os

    return os.getpid()
