"""What watch, trace and monitor share: finding the function a request names, splitting a
call's arguments into ``target`` and ``args``, compiling the request's expressions, and
the hand-off from application threads to the command's own thread.

The hand-off keeps the observed call cheap: a hook on an application thread appends a
tuple to a bounded deque (never blocks, never renders); the command's thread drains it a
few dozen times a second, renders, and streams events. When the deque is full (the
client cannot keep up) further items are counted as dropped, not queued.
"""

import collections
import inspect
import time
import traceback
import types

from . import hooks
from . import names
from .errors import AgentError, bad_args
from .expressions import ExpressionError, compile_expression

DRAIN_SECONDS = 0.02
QUEUE_MAX = 1000


class MethodTarget(object):
    """A resolved `module [class] method [-nm nested]`."""

    def __init__(self, fn, label, binds_first, nested):
        self.fn = fn
        self.label = label
        self.binds_first = binds_first  # args[0] is self/cls: shown as `target`
        self.nested = nested
        self.globals = fn.__globals__
        code = hooks.original_code(fn)  # not the wrapper of a hook another command has on it
        if nested:
            code = (hooks.nested_codes(code, nested) or [code])[0]
        self.code = code
        self.is_async = bool(code.co_flags & hooks.CO_COROUTINE)
        self.is_generator = bool(code.co_flags & (hooks.CO_GENERATOR | hooks.CO_ITERABLE_COROUTINE))

    def location(self):
        return {'file': self.code.co_filename, 'line': self.code.co_firstlineno}

    def install(self, ctx, on_enter, on_exit, **steps):
        """Hooks the function for the request; the hook goes when the request ends.
        ``steps``: on_resume/on_suspend for hooks.install."""
        return hooks.install(ctx.owner, self.fn, on_enter, on_exit, nested=self.nested, where=self.label, **steps)


class BuiltinTarget(object):
    """A resolved `module function` that is a built-in (C) function: observed through its
    module attribute (hooks.install_attribute), as the reference tool observes it."""

    binds_first = False
    nested = None
    code = None
    is_async = False
    is_generator = False

    def __init__(self, module, name, fn, label):
        self.module = module
        self.name = name
        self.fn = fn
        self.label = label
        self.globals = vars(module)

    def location(self):
        return {'file': '<built-in>', 'line': 0}

    def install(self, ctx, on_enter, on_exit, **steps):
        if steps:
            raise AgentError(
                'NotHookable',
                '%s is a built-in function: there are no Python calls inside it to trace' % self.label,
                hint='watch or tt it instead',
            )
        return hooks.install_attribute(ctx.owner, self.module, self.name, on_enter, on_exit, self.label)


def _builtin_target(module_name, method, nested):
    """The BuiltinTarget of a module attribute that is a built-in function, or None."""
    module = names.find_module(module_name)
    raw = vars(module).get(method)
    if not isinstance(raw, (types.BuiltinFunctionType, types.BuiltinMethodType)):
        return None
    label = '%s.%s' % (module_name, method)
    if nested:
        raise AgentError('NestedNotFound', '%s is a built-in function: nothing is defined inside it' % label)
    return BuiltinTarget(module, method, raw, label)


def resolve(ctx):
    """The MethodTarget named by the request's module/cls/method/nested arguments (a
    BuiltinTarget for a built-in function of a module)."""
    module_name = ctx.arg('module', str, required=True)
    cls_name = ctx.arg('cls', str)
    method = ctx.arg('method', str, required=True)
    nested = ctx.arg('nested', str)
    try:
        fn, where = names.find_function(module_name, cls_name, method)
    except AgentError as e:
        builtin = _builtin_target(module_name, method, nested) if e.type == 'NotHookable' and not cls_name else None
        if builtin is None:
            raise
        return builtin
    if nested:
        fn = _defining(fn, nested)
    binds_first = False
    if cls_name and not nested:
        klass = names.find_class(names.find_module(module_name), cls_name)
        binds_first = not isinstance(inspect.getattr_static(klass, method), staticmethod)
    return MethodTarget(fn, where + ('.' + nested if nested else ''), binds_first, nested)


def _defining(fn, nested):
    """The function whose body defines ``nested``: fn, or for a decorated function the one
    its decorator's wrapper wraps (``functools.wraps`` sets ``__wrapped__``), the body the
    user reads in the source. fn when none does (the hook then says what fn defines)."""
    f = fn
    for _ in range(100):  # a __wrapped__ cycle must not hold the request
        code = hooks.original_code(f)
        if hooks.nested_codes(code, nested):
            return f
        f = getattr(f, '__wrapped__', None)
        if not isinstance(f, types.FunctionType):
            break
    return fn


def split_args(args, binds_first):
    """(target, args without self/cls) as the reference grammar names them."""
    if binds_first and args:
        return args[0], args[1:]
    return None, args


def compile_option(ctx, key, option, names_):
    """The request's expression ``key`` compiled (None when absent); a syntax error is the
    request's error, raised before anything is installed."""
    source = ctx.arg(key, str)
    if source is None or not source.strip():
        return None
    try:
        return compile_expression(source, names_, option)
    except ExpressionError as e:
        raise AgentError('BadExpression', str(e))


def int_arg(ctx, key, default, low, high=None):
    value = ctx.arg(key, (int, float), default)
    if value != int(value) or value < low or (high is not None and value > high):
        raise bad_args(
            '%s: %s must be an integer %s'
            % (ctx.cmd, key, ('between %d and %d' % (low, high)) if high is not None else ('>= %d' % low))
        )
    return int(value)


def float_arg(ctx, key, default, low):
    value = ctx.arg(key, (int, float), default)
    if value < low:
        raise bad_args('%s: %s must be >= %s' % (ctx.cmd, key, low))
    return float(value)


def error_text(exc):
    return '%s: %s' % (type(exc).__name__, _cut(_safe_str(exc), 500))


def exception_info(exc, tb):
    """type, message and traceback of an exception the observed call raised; ``tb`` is
    its ``__traceback__`` taken when the call ended: the exception's own grows a frame at
    each caller it goes on through, so read later it would also name the target's frames
    up to where it was caught, as many as it had got through by then."""
    return {
        'type': type(exc).__name__,
        'message': _cut(_safe_str(exc), 2000),
        'traceback': _cut(''.join(_user_traceback(exc, tb).format()), 8000, keep_end=True),
    }


def _user_traceback(exc, tb):
    """The exception's traceback (and its causes') without the agent's own frames: the
    swapped-in hook code and the engine's call of the original function say nothing about
    the user's code and would only suggest that the agent raised."""
    root = traceback.TracebackException(type(exc), exc, tb)
    te, seen = root, set()
    while te is not None and id(te) not in seen:
        seen.add(id(te))
        te.stack[:] = [f for f in te.stack if not hooks.is_agent_file(f.filename)]
        te = te.__cause__ or te.__context__
    return root


def _safe_str(exc):
    try:
        return str(exc)
    except Exception as e:  # a raising __str__ must not end the command
        return '<str() raised %s>' % type(e).__name__


def _cut(text, limit, keep_end=False):
    if len(text) <= limit:
        return text
    return ('...' + text[-limit:]) if keep_end else (text[:limit] + '...')


class Handoff(object):
    """Items from application threads to the command's thread (bounded, never blocks)."""

    def __init__(self, limit=QUEUE_MAX):
        self._items = collections.deque()
        self._limit = limit
        self.dropped = 0

    def put(self, item):
        if len(self._items) < self._limit:
            self._items.append(item)
        else:
            self.dropped += 1

    def take(self):
        items = self._items
        out = []
        while items:
            out.append(items.popleft())
        return out


def pump(ctx, handoff, handle_items, tick=None):
    """Runs on the command's thread until the request must stop or ``handle_items``
    returns True (its limit was reached). ``tick(now)`` runs every round (monitor's
    cycles) and may end the command the same way. Returns why it stopped."""
    while True:
        stopped = ctx.wait(DRAIN_SECONDS)
        items = handoff.take()
        if items and handle_items(items):
            return 'limit'
        if tick is not None and tick(time.monotonic()):
            return 'limit'
        if stopped:
            return 'cancelled' if ctx.cancelled else 'stopped'
