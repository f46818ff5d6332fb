"""`reload module [class] method [--undo]`: the function's new definition, read from its
source file as it is now, replaces the code of the live function object in place, so
every reference taken before (``from m import f``, bound methods, callbacks kept in
registries) runs the new code from its next call. Defaults are evaluated again; the
module's other names, the decorators and the class are left as they are.

Refused, with nothing changed: a built-in, a function defined inside another function,
a file that no longer defines it or does not compile, and a new definition whose free
variables differ (a closure's cells cannot be swapped). A function hooked by watch, trace,
tt or monitor stays hooked (hooks.replace_code). Each reload is kept by the agent, so
``--undo`` puts the previous code and defaults back, one reload at a time.
"""

import threading
import time
import types

from ... import hooks, names
from ...errors import AgentError
from .source import evaluate_defaults, read_definition, same_code

NAME = 'reload'
HISTORY = 'reload history'


class _History(object):
    """What each reloaded function ran before, newest last (for --undo); agent-wide."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_function = {}  # id(fn) -> (fn, [(code, defaults, kwdefaults, when)])

    def push(self, fn, state):
        with self._lock:
            self._by_function.setdefault(id(fn), (fn, []))[1].append(state)

    def pop(self, fn):
        with self._lock:
            entry = self._by_function.get(id(fn))
            if entry is None or entry[0] is not fn or not entry[1]:
                return None, 0
            return entry[1].pop(), len(entry[1])

    def depth(self, fn):
        with self._lock:
            entry = self._by_function.get(id(fn))
            return len(entry[1]) if entry is not None and entry[0] is fn else 0

    def clear(self):
        with self._lock:
            self._by_function.clear()


def run(ctx):
    module_name = ctx.arg('module', str, required=True)
    cls_name = ctx.arg('cls', str)
    method = ctx.arg('method', str, required=True)
    fn, owner, where = _function(module_name, cls_name, method)
    history = ctx.agent.shared(HISTORY, _History)
    if ctx.arg('undo', bool, False):
        return _undo(fn, where, history)
    old_code = hooks.original_code(fn)
    if '<locals>' in fn.__qualname__:
        raise AgentError(
            'NotReloadable',
            '%s is defined inside another function (%s): reload that one'
            % (where, fn.__qualname__.split('.<locals>')[0]),
        )
    new = read_definition(old_code.co_filename, fn.__qualname__)
    if new.code.co_freevars != old_code.co_freevars:
        raise AgentError(
            'NotReloadable',
            'the new %s uses other free variables (%s, was %s): the cells of a live '
            'closure cannot change'
            % (where, ', '.join(new.code.co_freevars) or 'none', ', '.join(old_code.co_freevars) or 'none'),
            hint='nothing was reloaded; reload the function that makes the closure instead',
        )
    namespace = vars(owner) if isinstance(owner, type) else None
    defaults, kwdefaults = evaluate_defaults(new, fn.__globals__, namespace)
    out = {
        'target': where,
        'file': new.filename,
        'first_line': new.first_line,
        'last_line': new.last_line,
        'source': new.source,
    }
    if (
        same_code(new.code, old_code)
        and _same_values(defaults, fn.__defaults__)
        and _same_values(kwdefaults, fn.__kwdefaults__)
    ):
        out.update(changed=False, hooked=False, undo_depth=history.depth(fn))
        return out
    history.push(fn, (old_code, fn.__defaults__, fn.__kwdefaults__, time.time()))
    hooked = hooks.replace_code(fn, new.code)
    fn.__defaults__ = defaults
    fn.__kwdefaults__ = kwdefaults
    out.update(changed=True, hooked=hooked, undo_depth=history.depth(fn))
    return out


def _undo(fn, where, history):
    state, left = history.pop(fn)
    if state is None:
        raise AgentError('NothingToUndo', '%s has not been reloaded (or every reload was undone)' % where)
    code, defaults, kwdefaults, when = state
    hooked = hooks.replace_code(fn, code)
    fn.__defaults__ = defaults
    fn.__kwdefaults__ = kwdefaults
    return {
        'target': where,
        'undone': True,
        'reloaded_at': when,
        'hooked': hooked,
        'undo_depth': left,
        'file': code.co_filename,
        'first_line': code.co_firstlineno,
    }


def _function(module_name, cls_name, method):
    """(function object to reload, its module or class, readable name): for a decorated
    function, the function the decorators wrapped, since they ran once and keep it."""
    try:
        fn, where = names.find_function(module_name, cls_name, method)
    except AgentError as e:
        if e.type in ('ModuleNotFound', 'ClassNotFound', 'MethodNotFound'):
            # the reference's words first, which scripts look for
            label = '.'.join(n for n in (module_name, cls_name, method) if n)
            raise AgentError(e.type, 'Cannot locate method %s: %s' % (label, e.message), hint=e.hint)
        if e.type != 'NotHookable':
            raise
        raise AgentError('NotReloadable', '%s: only a Python function can be reloaded' % e.message.split(' (')[0])
    module = names.find_module(module_name)
    owner = names.find_class(module, cls_name) if cls_name else module
    return _innermost(fn, method), owner, where


def _innermost(fn, name, depth=0):
    """The function a decorator chain wraps: through __wrapped__ (functools.wraps), else a
    function of that name held in the wrapper's closure."""
    if depth > 10:
        return fn
    inner = getattr(fn, '__wrapped__', None)
    if isinstance(inner, types.FunctionType):
        return _innermost(inner, name, depth + 1)
    if fn.__name__ != name or hooks.original_code(fn).co_name != name:
        for cell in fn.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if isinstance(value, types.FunctionType) and value.__name__ == name:
                return _innermost(value, name, depth + 1)
    return fn


def _same_values(a, b):
    try:
        return bool(a == b)
    except Exception:
        return False
