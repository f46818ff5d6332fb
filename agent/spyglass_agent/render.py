"""The one object renderer shared by watch, tt, getglobal, vmtool, mem refs and the console.

An object becomes a JSON tree node:

    {"type": "mod.Class", "repr": "...", "len": 3, "children": [...], "truncated": 2}

- ``children`` (present when the node was expanded) hold ``{"name": str, "value": node}``
  for sequence items and attributes, or ``{"key": node, "value": node}`` for mapping items.
- ``truncated`` counts what was left out: items of a container, or characters of a repr.
- ``cycle: true`` marks an object already being rendered higher up the tree;
  ``error`` says why a repr could not be produced (it raised, or ran out of time).

Options follow the reference grammar: ``expand`` (-x, 1-6, or -1 for every level) is
how many levels are expanded, ``verbose`` (-v) lifts the item limit, ``raw`` (-r) gives
the plain repr only. Whatever the options, one render stops expanding after
``NODES_MAX`` nodes or ``TOTAL_SECONDS``, so `-x -1 -v` on a big graph stays bounded.

Built-in containers are never passed to ``repr()`` (that is O(size) and holds the GIL for
as long as it takes): their summary repr is built here from at most a few items. A
user-defined ``__repr__`` is called under a time limit enforced by a trace function
on this thread, and its text is cut to ``max_chars``; an exception never escapes.
"""

import sys
import time
import types

EXPAND_MAX = 6
EXPAND_ALL = -1  # -x -1: every level, down to EXPAND_ALL_DEPTH (a deeper chain would overflow the stack)
EXPAND_ALL_DEPTH = 64
NODES_MAX = 20000
ITEMS_DEFAULT = 100
ITEMS_VERBOSE = 10000  # -v: all items, but a million-item list still must not be shipped
CHARS_DEFAULT = 1000
CHARS_RAW = 100000
REPR_SECONDS = 0.2  # per user __repr__
TOTAL_SECONDS = 2.0  # per render() call

_SEQUENCES = (list, tuple, set, frozenset)
_ATOMS = (type(None), bool, int, float, complex, str, bytes, bytearray)


class _ReprTimeout(BaseException):
    """Raised inside a slow __repr__ by our trace function (BaseException so the user's
    own ``except Exception`` does not swallow it)."""


def type_name(obj):
    return qualified_name(type(obj))


def qualified_name(t):
    """A type's name as its module would spell it: `Order.Line` of `app.orders`, `dict`."""
    module = getattr(t, '__module__', None)
    name = getattr(t, '__qualname__', None) or t.__name__
    if module in (None, 'builtins'):
        return name
    return '%s.%s' % (module, name)


class Renderer(object):
    def __init__(self, expand=1, verbose=False, raw=False, max_chars=None):
        self.expand = EXPAND_ALL_DEPTH if int(expand) == EXPAND_ALL else max(0, min(int(expand), EXPAND_MAX))
        self.raw = raw
        self.max_items = ITEMS_VERBOSE if verbose else ITEMS_DEFAULT
        self.max_chars = max_chars or (CHARS_RAW if raw else CHARS_DEFAULT)
        self._deadline = None
        self._path = set()
        self._nodes = 0

    def render(self, obj):
        self._deadline = time.monotonic() + TOTAL_SECONDS
        self._path = set()
        self._nodes = 0
        try:
            return self._node(obj, 0)
        except RecursionError:
            return {'type': type_name(obj), 'repr': '', 'error': 'too deeply nested'}

    def _out_of_time(self):
        return time.monotonic() > self._deadline

    def _node(self, obj, depth):
        self._nodes += 1
        node = {'type': type_name(obj)}
        if self.raw:
            self._set_repr(node, obj)
            return node
        if isinstance(obj, _ATOMS):
            self._set_repr(node, obj)
            return node
        if id(obj) in self._path:
            node['repr'] = '<cycle: %s at 0x%x>' % (node['type'], id(obj))
            node['cycle'] = True
            return node
        expandable = depth < self.expand and self._nodes < NODES_MAX and not self._out_of_time()
        self._path.add(id(obj))
        try:
            if isinstance(obj, dict):
                self._mapping(node, obj, depth, expandable)
            elif isinstance(obj, _SEQUENCES):
                self._sequence(node, obj, depth, expandable)
            else:
                self._set_repr(node, obj)
                if expandable:
                    self._attributes(node, obj, depth)
        except Exception as e:
            # a container subclass whose own __len__, items() or __iter__ raises
            return {
                'type': node['type'],
                'repr': _placeholder(obj),
                'error': 'could not be read: %s: %s' % (type(e).__name__, _cut(str(e), 200)),
            }
        finally:
            self._path.discard(id(obj))
        return node

    def _sequence(self, node, obj, depth, expandable):
        n = len(obj)
        node['len'] = n
        items = _first(obj, self.max_items if expandable else 5)
        node['repr'] = self._summary(obj, items, n)
        if expandable:
            children = []
            for i, v in enumerate(items):
                if self._out_of_time():
                    break
                children.append({'name': str(i), 'value': self._node(v, depth + 1)})
            node['children'] = children
            if n > len(children):
                node['truncated'] = n - len(children)

    def _mapping(self, node, obj, depth, expandable):
        n = len(obj)
        node['len'] = n
        items = _first(obj.items(), self.max_items if expandable else 5)
        node['repr'] = self._summary(obj, items, n)
        if expandable:
            children = []
            for k, v in items:
                if self._out_of_time():
                    break
                children.append({'key': self._node(k, depth + 1), 'value': self._node(v, depth + 1)})
            node['children'] = children
            if n > len(children):
                node['truncated'] = n - len(children)

    def _summary(self, obj, items, n):
        """A repr-like text from at most a few items, e.g. ``[1, 2, 3, ...(97 more)]``."""
        shown = items[:5]
        if isinstance(obj, dict):
            parts = ['%s: %s' % (self._short(k), self._short(v)) for k, v in shown]
        else:
            parts = [self._short(v) for v in shown]
        if n > len(shown):
            parts.append('...(%d more)' % (n - len(shown)))
        body = ', '.join(parts)
        if isinstance(obj, list):
            text = '[%s]' % body
        elif isinstance(obj, tuple):
            text = '(%s%s)' % (body, ',' if n == 1 else '')
        elif isinstance(obj, dict) or (isinstance(obj, set) and n):
            text = '{%s}' % body
        else:
            text = '%s({%s})' % (type(obj).__name__, body) if n else '%s()' % type(obj).__name__
        if type(obj) not in (list, tuple, dict, set, frozenset):
            text = '%s(%s)' % (type_name(obj), text)
        return text

    def _short(self, v):
        """A one-item repr inside a summary: atoms and nested containers stay cheap."""
        if isinstance(v, (dict,) + _SEQUENCES):
            try:
                return '%s[%d]' % (type(v).__name__, len(v))
            except Exception:  # its own __len__ raised: the item's node says why
                return '%s[?]' % type(v).__name__
        text, _ = self._repr(v, 60)
        return text

    def _attributes(self, node, obj, depth):
        try:
            attrs = object.__getattribute__(obj, '__dict__')
        except Exception:
            attrs = None
        if isinstance(attrs, dict) and not isinstance(obj, (types.ModuleType, type)):
            names = list(_first(attrs.items(), self.max_items))
        else:
            names = []
            for cls in type(obj).__mro__:
                for slot in _slots(cls):
                    try:
                        names.append((slot, object.__getattribute__(obj, slot)))
                    except Exception:
                        pass
            attrs = names
        if not names:
            return
        children = []
        for name, value in names:
            if self._out_of_time():
                break
            children.append({'name': str(name), 'value': self._node(value, depth + 1)})
        node['children'] = children
        if len(attrs) > len(children):
            node['truncated'] = len(attrs) - len(children)

    def _set_repr(self, node, obj):
        text, error = self._repr(obj, self.max_chars)
        node['repr'] = text
        if error:
            node['error'] = error
        elif len(text) >= self.max_chars and isinstance(obj, (str, bytes, bytearray)):
            full = len(obj)
            shown = len(text)
            if full + 2 > shown:
                node['truncated'] = full + 2 - shown

    def _repr(self, obj, limit):
        """(text cut to limit, error or None). Never raises."""
        if isinstance(obj, (str, bytes, bytearray)) and len(obj) > limit:
            obj = obj[:limit]  # repr of a huge string would copy all of it
            text, err = self._repr(obj, limit)
            return text[:limit], err
        method = getattr(type(obj), '__repr__', None)
        try:
            if isinstance(method, types.FunctionType) and sys.gettrace() is None:
                text = _timed_repr(obj, REPR_SECONDS)
            else:
                text = repr(obj)
            if not isinstance(text, str):
                raise TypeError('__repr__ returned %s' % type(text).__name__)
        except _ReprTimeout:
            return _placeholder(obj), '__repr__ took over %gs' % REPR_SECONDS
        except Exception as e:
            return _placeholder(obj), '__repr__ raised %s: %s' % (type(e).__name__, _cut(str(e), 200))
        return _cut(text, limit), None


def _placeholder(obj):
    """What object.__repr__ would say: stands in for a repr that could not be had."""
    return '<%s object at 0x%x>' % (type_name(obj), id(obj))


def _cut(text, limit):
    return text if len(text) <= limit else text[:limit]


def _timed_repr(obj, seconds):
    """repr(obj) with a trace function on this thread that stops it after ``seconds``."""
    deadline = time.monotonic() + seconds

    def tracer(frame, event, arg):
        if time.monotonic() > deadline:
            raise _ReprTimeout()
        return tracer

    sys.settrace(tracer)
    try:
        return repr(obj)
    finally:
        sys.settrace(None)


def _first(iterable, n):
    out = []
    if n <= 0:
        return out
    try:
        for item in iterable:
            out.append(item)
            if len(out) >= n:
                break
    except RuntimeError:  # changed size during iteration: another thread is mutating it
        pass
    return out


def _slots(cls):
    slots = cls.__dict__.get('__slots__', ())
    if isinstance(slots, str):
        slots = (slots,)
    return [s for s in slots if s not in ('__dict__', '__weakref__')]


def render(obj, expand=1, verbose=False, raw=False):
    """Renders obj as a JSON-ready tree; see the module docstring."""
    return Renderer(expand, verbose, raw).render(obj)


def text(obj, max_chars=CHARS_DEFAULT, raw=False):
    """obj as one piece of text, made as a node's repr is (a built-in container summarized
    unless ``raw``, a user ``__repr__`` time-limited, the text cut to ``max_chars``), with
    the reason appended when no repr could be had. Every value spyglass shows as text
    outside a rendered tree goes through here."""
    node = Renderer(0, False, raw, max_chars).render(obj)
    return node['repr'] + ('  <%s>' % node['error'] if node.get('error') else '')
