"""Records the tree of calls made inside one traced call, on the thread running it.

The hot part runs on the application thread, so it only appends numbers and objects to
two lists: on each call a start time is pushed, on each return it is popped and, when the
call lasted at least ``interval`` seconds (and lies within ``max_depth``), one record
``(what, depth, start, cost, line)`` is appended. Records come out in post-order (a child
before its parent); a child never costs more than its parent, so a kept child always has a
kept parent and the tree can be rebuilt from depths alone. Names, paths, aggregation of
repeated calls and the ``-et`` decision happen later, on the agent thread
(``build_tree``).

Two backends:

* CPython 3.12+: ``sys.monitoring`` with a tool id of our own. Only LOCAL events are used
  for calls and returns, set on the traced function's code and on the code of each Python
  function it is seen calling; a thread that is not inside a traced call and runs one of
  those code objects pays one dictionary miss per event. ``PY_UNWIND``/``PY_THROW`` cannot
  be local, so they are global, and only fire when an exception leaves a frame or a
  generator is resumed by ``throw()``. ``sys.setprofile``/``sys.settrace`` and other tools
  are separate tool ids and keep working. Python functions called implicitly by C code
  (``__eq__``, properties, ``sorted(key=...)``) are not discovered and count towards their
  caller's own time.
* CPython 3.8-3.11: ``sys.setprofile`` on the calling thread only, set right before the
  call and restored right after, so no other thread pays anything. A profile function the
  thread already had (a Python callable) is chained and put back; a C-level profiler such
  as cProfile cannot be chained from Python, so such a thread's calls are reported as not
  traceable instead of silently breaking the profiler.
"""
import sys
import types
from time import perf_counter

from ...hooks import is_agent_file

try:
    from _thread import get_ident
except ImportError:  # pragma: no cover
    from threading import get_ident

HAS_MONITORING = hasattr(sys, "monitoring")

# callables that are timed as their own node on 3.12+ (C_RETURN/C_RAISE fire for them)
_TIMED_CALLABLES = frozenset(
    (
        types.BuiltinFunctionType,
        type(str.join),  # method_descriptor
        type(object.__init__),  # wrapper_descriptor
        type(object().__str__),  # method-wrapper
        type(dict.__dict__["fromkeys"]),  # classmethod_descriptor
        type,
    )
)

AWAIT = "[await]"
YIELD = "[yield]"
_CO_COROUTINE = 0x80
# kept calls per traced call: a loop of millions of calls under -i 0 must not exhaust memory
MAX_RECORDS = 50000


class TraceUnavailable(Exception):
    """This thread's call cannot be traced without disturbing something the target set."""


class Recording(object):
    """The records of one traced call (appended to by the backend's hooks)."""

    __slots__ = ("stack", "records", "awaits", "paused_at", "prev")

    def __init__(self):
        self.stack = []
        self.records = []
        # (start, cost) of each gap during which an async call was suspended
        self.awaits = []
        self.paused_at = None
        self.prev = None  # 3.8-3.11: the thread's profile function before ours


def _gap(rec):
    """Closes the await gap that ends now (none before the first step)."""
    if rec.paused_at is not None:
        rec.awaits.append((rec.paused_at, perf_counter() - rec.paused_at))
        rec.paused_at = None


def _own_code(code):
    # the agent's functions and the hook wrappers are never part of a tree
    return is_agent_file(code.co_filename)


class _ProfileBackend(object):
    """3.8-3.11: ``sys.setprofile`` on this thread for the duration of the call."""

    def __init__(self, interval, max_depth):
        self.interval = interval
        self.max_depth = max_depth
        self._active = {}  # thread id -> Recording

    def _profile_function(self, rec, prev):
        stack = rec.stack
        push = stack.append
        pop = stack.pop
        records = rec.records
        out = records.append
        interval = self.interval
        max_depth = self.max_depth
        clock = perf_counter

        def profile(frame, event, arg):
            if event == "call" or event == "c_call":
                push(clock())
            elif stack:
                t1 = clock()
                t0 = pop()
                if t1 - t0 >= interval:
                    depth = len(stack)
                    if depth <= max_depth and len(records) < MAX_RECORDS:
                        if event == "return":
                            caller = frame.f_back
                            out((frame.f_code, depth, t0, t1 - t0, caller.f_lineno if caller is not None else 0))
                        else:  # c_return / c_exception: frame is the caller
                            out((arg, depth, t0, t1 - t0, frame.f_lineno))

        if prev is None:
            return profile

        def chained(frame, event, arg):
            profile(frame, event, arg)
            prev(frame, event, arg)

        return chained

    def _previous(self):
        prev = sys.getprofile()
        if prev is not None and not isinstance(prev, (types.FunctionType, types.MethodType)):
            raise TraceUnavailable(
                "thread %d runs a C-level profiler (%s) that cannot be chained on Python %d.%d"
                % (get_ident(), type(prev).__name__, sys.version_info[0], sys.version_info[1])
            )
        return prev

    def begin(self, root_codes, suspended=False):
        tid = get_ident()
        if tid in self._active:
            return None  # a recursive call is part of the outer call's tree
        rec = Recording()
        if suspended:
            return rec
        prev = self._previous()
        rec.prev = prev
        self._active[tid] = rec
        sys.setprofile(self._profile_function(rec, prev))
        return rec

    def pause(self, rec):
        rec.paused_at = perf_counter()
        self._active.pop(get_ident(), None)
        sys.setprofile(rec.prev)

    def resume(self, rec):
        # The step that resumes an async call starts with a C call (coroutine.send) made
        # by the agent: start recording only at the first Python call, the coroutine's own
        # frame, so the tree keeps its root at depth 0. (It may resume on another thread
        # of its event loop.)
        _gap(rec)
        del rec.stack[:]
        prev = self._previous()
        rec.prev = prev
        self._active[get_ident()] = rec
        real = self._profile_function(rec, prev)

        def arm(frame, event, arg):
            if event == "call":
                sys.setprofile(real)
                real(frame, event, arg)
            elif prev is not None:
                prev(frame, event, arg)

        sys.setprofile(arm)

    def end(self, rec):
        tid = get_ident()
        if self._active.get(tid) is rec:
            del self._active[tid]
            sys.setprofile(rec.prev)

    def close(self):
        pass


class _MonitoringBackend(object):
    """3.12+: ``sys.monitoring`` local events on the code objects the traced calls reach."""

    def __init__(self, interval, max_depth):
        monitoring = sys.monitoring
        events = monitoring.events
        self.tool = None
        for tool in (4, 3, 5, 1, 0, 2):  # leave the well-known ids (PROFILER=2, DEBUGGER=0) for last
            try:
                monitoring.use_tool_id(tool, "spyglass-trace")
            except ValueError:
                continue
            self.tool = tool
            break
        if self.tool is None:
            raise TraceUnavailable("all 6 sys.monitoring tool ids are in use by other tools")
        self._local = (
            events.PY_START | events.PY_RESUME | events.PY_RETURN | events.PY_YIELD
            | events.CALL | events.C_RETURN | events.C_RAISE
        )
        self._active = {}  # thread id -> Recording (only while inside a traced call)
        # id -> code: a hook site runs a copy that compares equal to the original code
        # (hooks.py), and each code object must get its own local events
        self._codes = {}
        self._register(events, interval, max_depth)
        monitoring.set_events(self.tool, events.PY_UNWIND | events.PY_THROW)

    def _instrument(self, code):
        if id(code) in self._codes or _own_code(code):
            return
        self._codes[id(code)] = code
        sys.monitoring.set_local_events(self.tool, code, self._local)

    def _register(self, events, interval, max_depth):
        active_get = self._active.get
        codes = self._codes
        instrument = self._instrument
        timed = _TIMED_CALLABLES
        timed_c = _TIMED_CALLABLES - {type}  # a class is timed too, and its __init__ discovered
        clock = perf_counter
        getframe = sys._getframe
        FunctionType = types.FunctionType
        MethodType = types.MethodType

        def on_start(code, offset):
            rec = active_get(get_ident())
            if rec is not None:
                rec.stack.append(clock())

        def on_end(code, offset, value):
            rec = active_get(get_ident())
            if rec is not None and rec.stack:
                t1 = clock()
                stack = rec.stack
                t0 = stack.pop()
                if t1 - t0 >= interval:
                    depth = len(stack)
                    if depth <= max_depth and len(rec.records) < MAX_RECORDS:
                        caller = getframe(1).f_back
                        rec.records.append((code, depth, t0, t1 - t0, caller.f_lineno if caller is not None else 0))

        def discover(fn):
            kind = type(fn)
            if kind is MethodType:
                fn = fn.__func__
                kind = type(fn)
            if kind is FunctionType:
                code = fn.__code__
                if id(code) not in codes:
                    instrument(code)
            elif isinstance(fn, type):
                for name in ("__init__", "__new__"):
                    f = getattr(fn, name, None)
                    if type(f) is FunctionType and id(f.__code__) not in codes:
                        instrument(f.__code__)
            else:
                call = getattr(kind, "__call__", None)  # noqa: B004 (the class's own Python __call__, not callability)
                if type(call) is FunctionType and id(call.__code__) not in codes:
                    instrument(call.__code__)
                inner = getattr(fn, "func", None)  # functools.partial
                if type(inner) is FunctionType and id(inner.__code__) not in codes:
                    instrument(inner.__code__)

        def on_call(code, offset, fn, arg0):
            # the common cases first: a Python function already instrumented, a C function
            rec = active_get(get_ident())
            if rec is not None:
                kind = type(fn)
                if kind is FunctionType:
                    if id(fn.__code__) not in codes:
                        instrument(fn.__code__)
                elif kind in timed_c:
                    rec.stack.append(clock())
                elif isinstance(fn, type):
                    rec.stack.append(clock())
                    discover(fn)
                else:
                    discover(fn)

        def on_c_end(code, offset, fn, arg0):
            rec = active_get(get_ident())
            if rec is not None and rec.stack and (type(fn) in timed or isinstance(fn, type)):
                t1 = clock()
                stack = rec.stack
                t0 = stack.pop()
                if t1 - t0 >= interval:
                    depth = len(stack)
                    if depth <= max_depth and len(rec.records) < MAX_RECORDS:
                        rec.records.append((fn, depth, t0, t1 - t0, getframe(1).f_lineno))

        def on_unwind(code, offset, exc):
            if id(code) in codes:
                on_end(code, offset, exc)

        def on_throw(code, offset, exc):
            if id(code) in codes:
                on_start(code, offset)

        register = sys.monitoring.register_callback
        register(self.tool, events.PY_START, on_start)
        register(self.tool, events.PY_RESUME, on_start)
        register(self.tool, events.PY_RETURN, on_end)
        register(self.tool, events.PY_YIELD, on_end)
        register(self.tool, events.CALL, on_call)
        register(self.tool, events.C_RETURN, on_c_end)
        register(self.tool, events.C_RAISE, on_c_end)
        register(self.tool, events.PY_UNWIND, on_unwind)
        register(self.tool, events.PY_THROW, on_throw)

    def begin(self, root_codes, suspended=False):
        tid = get_ident()
        if tid in self._active:
            return None
        for code in root_codes:
            self._instrument(code)
        rec = Recording()
        if not suspended:
            self._active[tid] = rec
        return rec

    def pause(self, rec):
        rec.paused_at = perf_counter()
        self._active.pop(get_ident(), None)

    def resume(self, rec):
        _gap(rec)
        self._active[get_ident()] = rec

    def end(self, rec):
        tid = get_ident()
        if self._active.get(tid) is rec:
            del self._active[tid]

    def close(self):
        if self.tool is None:
            return
        monitoring = sys.monitoring
        monitoring.set_events(self.tool, 0)
        for code in self._codes.values():
            monitoring.set_local_events(self.tool, code, 0)
        for event in (
            "PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD", "CALL", "C_RETURN", "C_RAISE", "PY_UNWIND", "PY_THROW",
        ):
            monitoring.register_callback(self.tool, getattr(monitoring.events, event), None)
        monitoring.free_tool_id(self.tool)
        self._codes.clear()
        self.tool = None


def make_tracer(interval_s, max_depth=None):
    """A backend for one trace command: ``begin(root_codes)``/``end()`` around each traced
    call (root_codes: the code objects the call runs as its own), and
    ``close()`` at the end of the command. An async call is begun ``suspended=True`` and
    each step of the coroutine runs between ``resume()`` and ``pause()``."""
    depth = sys.maxsize if max_depth is None else max_depth
    backend = _MonitoringBackend if HAS_MONITORING else _ProfileBackend
    return backend(interval_s, depth)


# ---- agent thread: records -> tree -------------------------------------------------


def _describe(what, paths):
    """(kind, name, file, line) of a record's callable; a C function's file and line are
    its call site's, filled in from the parent."""
    if isinstance(what, types.CodeType):
        name = getattr(what, "co_qualname", what.co_name)
        return ("py", name, short_path(what.co_filename, paths), what.co_firstlineno)
    name = getattr(what, "__qualname__", None) or getattr(what, "__name__", None) or type(what).__name__
    module = getattr(what, "__module__", None)
    if isinstance(module, str) and module not in ("builtins", "__main__") and not name.startswith(module + "."):
        name = module + "." + name
    return ("c", name, "", 0)


def short_path(path, paths):
    """A file name relative to the sys.path entry that holds it (the reference tool's
    habit), or as it is when no entry does."""
    best = ""
    for p in paths:
        if p and len(p) > len(best) and path.startswith(p.rstrip("/") + "/"):
            best = p.rstrip("/")
    return path[len(best) + 1:] if best else path


# described callables kept per trace command: a busy handler's tree names the same few
# dozen functions on every call, and naming one (qualname, path relative to sys.path)
# costs more than placing it in the tree
_NAMES_KEPT = 4096


class TreeBuilder(object):
    """Builds the trees of one trace command, naming each callable once (``paths``: the
    sys.path entries file names are made relative to)."""

    def __init__(self, paths=None):
        self.paths = [p for p in sys.path if p] if paths is None else paths
        self._names = {}  # id(callable) -> (callable, description); the callable held so its id stays its own

    def _describe(self, what):
        entry = self._names.get(id(what))
        if entry is not None and entry[0] is what:
            return entry[1]
        if len(self._names) >= _NAMES_KEPT:
            self._names.clear()
        described = _describe(what, self.paths)
        self._names[id(what)] = (what, described)
        return described

    def build(self, rec, root_code, root_codes, total_cost_s):
        """The recorded call as a tree of dicts: name, kind, file, line, call_line, cost_ms,
        count, max_ms, children. Calls of the same callable from one line under one parent
        are merged into one node (count, total and max), in the order first seen; the gaps
        during which an async call was suspended become ``[await]`` nodes under the root
        (``[yield]`` for a generator: the time its consumer held it)."""
        # post-order (records are appended as calls end) -> children per node; the root may
        # come as several depth-0 records (one per step of an async call), all of whose
        # children belong to the one root
        records = rec.records
        if rec.awaits:
            records = records + [(AWAIT, 1, start, cost, 0) for start, cost in rec.awaits]
            records.sort(key=lambda r: (r[2] + r[3], -r[1]))  # by end time, deeper first on ties
        pending = {}
        root_children = []
        for what, depth, start, cost, line in records:
            children = pending.pop(depth + 1, [])
            if depth == 0:
                # the traced call's own frame (one record per step of an async call); other
                # depth-0 records are what ran around it on the thread (hooks of other commands)
                if any(what is c for c in root_codes):
                    root_children.extend(children)
                continue
            pending.setdefault(depth, []).append((what, start, cost, line, children))
        root_children.extend(n for n in pending.pop(1, []) if n[0] is AWAIT)
        root_children.sort(key=lambda n: n[1])
        gap = ("await", AWAIT if root_code.co_flags & _CO_COROUTINE else YIELD, "", 0)
        named = self._describe

        def describe(what):
            return gap if what is AWAIT else named(what)

        def merge(raw_children, parent_file):
            # one node per callable and call site under a parent
            out = []
            by_key = {}
            for what, _start, cost, call_line, kids in raw_children:
                kind, name, file, line = describe(what)
                if kind == "c":
                    file, line = parent_file, call_line
                key = (kind, name, file, line, call_line)
                node = by_key.get(key)
                if node is None:
                    node = {
                        "name": name, "kind": kind, "file": file, "line": line, "call_line": call_line,
                        "cost_ms": 0.0, "max_ms": 0.0, "count": 0, "_kids": [],
                    }
                    by_key[key] = node
                    out.append(node)
                node["cost_ms"] += cost * 1000.0
                node["max_ms"] = max(node["max_ms"], cost * 1000.0)
                node["count"] += 1
                node["_kids"].extend(kids)
            for node in out:
                node["children"] = merge(sorted(node.pop("_kids"), key=lambda n: n[1]), node["file"])
            return out

        kind, name, file, line = named(root_code)
        return {
            "name": name, "kind": kind, "file": file, "line": line,
            "cost_ms": total_cost_s * 1000.0, "max_ms": total_cost_s * 1000.0, "count": 1,
            "call_line": 0, "children": merge(root_children, file),
        }
