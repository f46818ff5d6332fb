"""Records the tree of calls made inside one traced call, on the thread running it.

The hot part runs on the application thread, so it only appends numbers and objects to
lists. A plain (synchronous) call pushes its start time on the recording's stack and, as
it returns, appends one record when it lasted at least ``interval`` seconds (and lies
within ``max_depth``):

    (what, parent, start, cost, line, depth, caller, node)

``parent`` is the key of the enclosing call: its start time (a plain call) or its Node
(below); ``line``/``caller`` are the calling frame's line and code, so that the line is
shown only when it is a line of the parent's code. A child never costs more than its
parent, so a kept child has a kept parent (a kept Node keeps its parent Node; the one
exception, a task still running after its creator returned, hangs under the root).

A call of a generator, coroutine or async generator function runs in steps, with other
code in between. It is one ``Node`` per call, keyed by its frame object, which lives as
long as the generator does (docs/trace-internals.md §1): opened at its first step, popped
at each suspension and pushed again at each resumption, closed when it returns. Its cost
is its wall time from the first step to the return, less the time a generator had handed
a value to its consumer (that time is the consumer's, and shows in the consumer's
nodes); the time an awaiting call spent suspended is part of its cost, and what it waited
on (``asyncio.sleep``, a lock, another task...) is noted when it can be told.

Tasks that the traced call creates (``gather``, ``create_task``, ``TaskGroup`` all go
through ``BaseEventLoop.create_task``) are followed: the task's coroutine becomes a Node
under the coroutine that created it, marked as another task, and each step of it that
the event loop runs on this thread is recorded too, until the traced call returns.

Frames of the agent (the hook wrappers of other commands, their callbacks, the stepping
of async calls) are never part of a tree: their events are skipped, and what they call
of the user's code hangs under the user's frame below them.

Names, paths, aggregation of repeated calls and the ``-et`` decision happen later, on
the agent thread (``TreeBuilder``). Two backends:

* CPython 3.12+: ``sys.monitoring`` with a tool id of our own. Only LOCAL events are used
  for calls and returns, set on the traced function's code and on the code of each Python
  function it is seen calling; a thread that is not inside a traced call and runs one of
  those code objects pays one dictionary miss per event (and, while the traced call has
  tasks pending, a frame look-up per start or resumption). ``PY_UNWIND``/``PY_THROW`` cannot
  be local, so they are global, and only fire when an exception leaves a frame or a
  generator is resumed by ``throw()``. ``sys.setprofile``/``sys.settrace`` and other tools
  are separate tool ids and keep working. Python functions called implicitly by C code
  (``__eq__``, properties, ``sorted(key=...)``) are not discovered and count towards their
  caller's own time.
* CPython 3.8-3.11: ``sys.setprofile`` on the calling thread only, set when the traced
  call starts (or a step of it) and restored when it ends (or the step does), so no other
  thread pays anything; while tasks it created are pending, the profile function stays
  set between steps on the event loop's thread and only looks for those tasks' frames.
  A profile function the thread already had (a Python callable) is chained and put back;
  a C-level profiler such as cProfile cannot be chained from Python, so such a thread's
  calls are reported as not traceable instead of silently breaking the profiler.
"""

import dis
import os
import sys
import types
import weakref
from time import perf_counter

from ... import hooks, log

try:
    from _thread import get_ident
except ImportError:  # pragma: no cover
    from threading import get_ident

HAS_MONITORING = hasattr(sys, 'monitoring')

# callables that are timed as their own node on 3.12+ (C_RETURN/C_RAISE fire for them)
_TIMED_CALLABLES = frozenset(
    (
        types.BuiltinFunctionType,
        type(str.join),  # method_descriptor
        type(object.__init__),  # wrapper_descriptor
        type(object().__str__),  # method-wrapper
        type(dict.__dict__['fromkeys']),  # classmethod_descriptor
        type,
    )
)

_STEPPED = hooks.CO_GENERATOR | hooks.CO_COROUTINE | hooks.CO_ITERABLE_COROUTINE | hooks.CO_ASYNC_GENERATOR
# a suspension of these is a wait (part of the cost); a plain generator's hands a value
# to its consumer (not part of its cost)
_AWAITING = hooks.CO_COROUTINE | hooks.CO_ITERABLE_COROUTINE
# kept calls per traced call: a loop of millions of calls under -i 0 must not exhaust memory
MAX_RECORDS = 50000
# generator calls followed at once per traced call (each holds its frame until it ends)
MAX_OPEN = 10000

# what a code object is to the recorder (cached per code object)
_PLAIN = 'plain'
_AGENT = 'agent'  # the agent's own code: skipped
_TASK_MAKER = 'task maker'  # BaseEventLoop.create_task: its return value is followed
# a stack entry standing for a frame of the agent's (never a node)
_HIDDEN = 'hidden'


class _TaskMakerStart(float):
    """The start time of a ``create_task`` call on the stack: a float as a key and in
    arithmetic, but not ``type(x) is float``, so its return takes the slow path."""

    __slots__ = ()


class TraceUnavailable(Exception):
    """This thread's call cannot be traced without disturbing something the target set."""


class Node(object):
    """One call of a generator, coroutine or async generator function, across its steps."""

    __slots__ = (
        'code',
        'frame',
        'parent',
        'depth',
        'line',
        'caller',
        'start',
        'left',
        'awaiting',
        'on',
        'suspended',
        'held',
        'waits',
        'task',
        'keep',
        'unfinished',
    )

    def __init__(self, code, frame, parent, depth, line, caller, task=False):
        self.code = code
        self.frame = frame  # while it runs: the line a task is created from
        self.parent = parent
        self.depth = depth
        self.line = line
        self.caller = caller
        self.start = None  # its first step (a task is created before it)
        self.left = None  # when it last suspended (None while it runs)
        self.awaiting = False  # that suspension is a wait, not a value handed to a consumer
        self.on = None  # what it waits on, when this node's own frame did the waiting
        self.suspended = 0.0  # seconds spent waiting
        self.held = 0.0  # seconds its consumer held a value it yielded
        self.waits = {}  # what it waited on -> seconds
        self.task = task  # the coroutine of another task
        self.keep = False  # a descendant was kept, so it is kept
        self.unfinished = False  # still running when the traced call returned


class Recording(object):
    """The records of one traced call (appended to by the backend's hooks)."""

    __slots__ = (
        'roots',
        'interval',
        'max_depth',
        'stack',
        'records',
        'open',
        'base',
        'hidden',
        'last_left',
        'over_budget',
        'below_depth',
        'error',
    )

    def __init__(self, roots, interval, max_depth):
        self.roots = roots  # the code objects the traced call runs as its own
        self.interval = interval
        self.max_depth = max_depth
        self.stack = []  # start times of plain calls, Nodes and _HIDDEN, innermost last
        self.records = []
        self.open = {}  # frame -> Node, for every generator call begun and not ended
        self.base = 0  # depth of the bottom of the stack in this step
        self.hidden = 0  # how many _HIDDEN entries the stack holds
        self.last_left = None  # the node that suspended last (the one passing a wait up)
        # what the tree lacks, so that it never passes for complete (see cut_short)
        self.over_budget = 0  # calls not recorded: MAX_RECORDS kept, or MAX_OPEN followed
        self.below_depth = 0  # calls as costly as -i but deeper than -d
        self.error = None  # the recorder stopped on this call's thread (a bug of ours)

    def begin_step(self, depth):
        del self.stack[:]
        self.base = depth
        self.hidden = 0
        self.last_left = None

    def dropped(self, depth):
        """A call worth keeping was not kept: deeper than -d, or past the budget."""
        if depth > self.max_depth:
            self.below_depth += 1
        else:
            self.over_budget += 1

    def cut_short(self):
        """What the recording lacks, or None when it is whole: {over_budget, below_depth,
        error} (only those that apply)."""
        cut = {}
        if self.over_budget:
            cut['over_budget'] = self.over_budget
        if self.below_depth:
            cut['below_depth'] = self.below_depth
        if self.error is not None:
            cut['error'] = self.error
        return cut or None


def _is_root(code, roots):
    return any(code is c for c in roots)


def _user_caller(frame):
    """The nearest frame below ``frame`` that is not the agent's: (its code, line)."""
    back = frame.f_back
    while back is not None and hooks.is_agent_file(back.f_code.co_filename):
        back = back.f_back
    if back is None:
        return None, 0
    return back.f_code, back.f_lineno or 0


def _parent_below(stack):
    """The innermost entry of the stack that is not the agent's (None at the bottom)."""
    for entry in reversed(stack):
        if entry is not _HIDDEN:
            return entry
    return None


def _enter_stepped(rec, frame, now):
    """A step of a generator call starts: its Node is opened (first step) or resumed."""
    node = rec.open.get(frame)
    stack = rec.stack
    if node is None:
        caller, line = _user_caller(frame)
        node = Node(frame.f_code, frame, _parent_below(stack), rec.base + len(stack) - rec.hidden, line, caller)
        if len(rec.open) < MAX_OPEN:
            rec.open[frame] = node
        else:
            rec.over_budget += 1  # followed step by step as separate calls
    if node.start is None:
        node.start = now
    elif node.left is not None:
        gap = now - node.left
        if node.awaiting:
            node.suspended += gap
            node.waits[node.on] = node.waits.get(node.on, 0.0) + gap
        else:
            node.held += gap
        node.left = None
    rec.last_left = None
    stack.append(node)


def _leave_stepped(rec, node, frame, value, yielded, now):
    """A step of a generator call ends (its Node already popped): suspended or ended."""
    if yielded:
        node.left = now
        flags = node.code.co_flags
        node.awaiting = bool(flags & _AWAITING) or (
            bool(flags & hooks.CO_ASYNC_GENERATOR) and type(value).__name__ != 'async_generator_wrapped_value'
        )
        last = rec.last_left
        # the innermost waiting node says what it waits on; its awaiters wait on it
        node.on = _waited_on(value, node.code) if node.awaiting and (last is None or last.parent is not node) else None
        rec.last_left = node
        return
    rec.open.pop(frame, None)
    _close(rec, node, now)


def _close(rec, node, end):
    node.frame = None
    cost = end - node.start - node.held
    parent = node.parent
    if cost < rec.interval and not node.keep and parent is not None:
        return
    if parent is None or (node.depth <= rec.max_depth and len(rec.records) < MAX_RECORDS):
        rec.records.append((node.code, parent, node.start, cost, node.line, node.depth, node.caller, node))
        if type(parent) is Node:
            parent.keep = True
    else:
        rec.dropped(node.depth)


def _finish(rec):
    """The traced call has returned: generator calls still open (tasks it left running,
    generators it dropped) are closed now, and their frames let go."""
    now = perf_counter()
    for node in sorted(rec.open.values(), key=lambda n: -n.depth):  # children before parents
        if node.start is not None:
            if node.left is not None and not node.awaiting:
                node.held += now - node.left
            node.unfinished = node.task
            _close(rec, node, now)
    rec.open.clear()
    del rec.stack[:]


def _stopped(exc):
    """Logs that a recorder callback failed; returns what the trace says about it."""
    log.error('trace: recording stopped on a thread: %r' % (exc,))
    return 'the recorder stopped on this thread: %s: %s' % (type(exc).__name__, exc)


def _waited_on(value, code):
    """What an awaiting frame that suspended itself waits on, in words (None if unknown;
    docs/trace-internals.md §3). Runs inside the target's call: whatever the value's class
    does, nothing raises."""
    try:
        return _waited_on_unguarded(value, code)
    except Exception:
        return None


def _waited_on_unguarded(value, code):
    if value is None:
        return 'the event loop'  # a bare yield: asyncio.sleep(0)
    where = code.co_filename.replace(os.sep, '/')
    if '/asyncio/' in where:
        if where.endswith('/asyncio/tasks.py') and code.co_name == 'sleep':
            return 'asyncio.sleep'
        if where.endswith('/asyncio/locks.py'):
            return 'a lock'
        if where.endswith('/asyncio/queues.py'):
            return 'a queue'
    asyncio = sys.modules.get('asyncio')
    if asyncio is not None:
        if isinstance(value, asyncio.Task):
            return 'another task'
        if type(value).__name__ == '_GatheringFuture':
            return 'other tasks (gather)'
        if asyncio.isfuture(value):
            return 'a future'
    return None


def _create_task_code():
    """The code of ``BaseEventLoop.create_task``, which every way of making a task goes
    through (docs/trace-internals.md §4), when asyncio is loaded (never imported here: the
    target's modules are its own business)."""
    module = sys.modules.get('asyncio.base_events')
    loop = getattr(module, 'BaseEventLoop', None)
    fn = getattr(loop, 'create_task', None)
    return getattr(fn, '__code__', None)


def _task_made(rec, task, stack):
    """``create_task`` returned ``task`` inside the traced call: its coroutine becomes a
    Node under the coroutine that created it. Returns its frame (None if not followed).
    Runs inside the target's call: whatever a loop's create_task returned, nothing raises."""
    try:
        return _follow_task(rec, task, stack)
    except Exception:
        return None


def _follow_task(rec, task, stack):
    get_coro = getattr(task, 'get_coro', None)
    coro = get_coro() if get_coro is not None else None
    frame = getattr(coro, 'cr_frame', None)
    if frame is None:
        return None
    eager = rec.open.get(frame)
    if eager is not None and eager.task:
        return None  # already followed
    if eager is None and len(rec.open) >= MAX_OPEN:
        rec.over_budget += 1  # the task runs untraced
        return None
    creator = None
    for entry in reversed(stack):
        if type(entry) is Node:
            creator = entry
            break
    if creator is None or creator.frame is None:
        return None
    depth, line, caller = creator.depth + 1, creator.frame.f_lineno or 0, creator.frame.f_code
    if eager is None:
        rec.open[frame] = Node(coro.cr_code, frame, creator, depth, line, caller, task=True)
        return frame
    # an eager task (3.12+ eager_task_factory): its first step ran inside create_task,
    # where it was opened as a call under it; it is the creator's task like any other
    # (docs/trace-internals.md §4)
    eager.parent, eager.depth, eager.line, eager.caller, eager.task = creator, depth, line, caller, True
    return frame


def _yield_offsets(code):
    """Offsets ``f_lasti`` has, in a profile 'return' event, when the frame suspended
    rather than returned: at a YIELD_VALUE, or (3.8-3.10) right before the YIELD_FROM
    that an await repeats (docs/trace-internals.md §2)."""
    offsets = set()
    previous = None
    try:
        for ins in dis.get_instructions(code):
            if ins.opname == 'YIELD_VALUE':
                offsets.add(ins.offset)
            elif ins.opname == 'YIELD_FROM' and previous is not None:
                offsets.add(previous)
            previous = ins.offset
    except Exception:
        pass  # unreadable bytecode: every step is taken for the last (one node per step)
    return frozenset(offsets)


class _ThreadState(object):
    """3.8-3.11: what our profile functions on one thread serve."""

    __slots__ = ('current', 'armed', 'followed', 'prev', 'idle', 'installed')

    def __init__(self, prev):
        self.current = None  # the Recording whose step runs now
        self.armed = None  # the Recording waiting for its root frame to be called
        self.followed = {}  # frame of a followed task -> its Recording
        self.prev = prev  # the thread's profile function before ours
        self.idle = None  # our function between steps (chained to prev)
        self.installed = None  # the function we set last

    def unused(self):
        return self.current is None and self.armed is None and not self.followed


def _chain(fn, prev):
    """``fn``, and the thread's own profile function after it when it had one."""
    if prev is None:
        return fn

    def chained(frame, event, arg):
        fn(frame, event, arg)
        prev(frame, event, arg)

    return chained


class _ProfileBackend(object):
    """3.8-3.11: ``sys.setprofile`` on the threads running traced calls, while they do.

    Between steps (and before the traced call starts) a thread has the *idle* function,
    which only looks at calls, for the traced frame or a followed task's; a step runs
    under a *recording* function made for it, whose locals are that recording's stack
    (the hot path); when the step's stack empties, the idle function comes back, or the
    thread's own function when nothing is pending."""

    def __init__(self, interval, max_depth):
        self.interval = interval
        self.max_depth = max_depth
        self._threads = {}  # thread id -> _ThreadState
        # id(code) -> _PLAIN, _AGENT, _TASK_MAKER or its yield offsets. By id: a code
        # object hashes its whole contents on every look-up, and a hook site runs a copy
        # that compares equal to the original (hooks.py); _seen keeps the ids unique
        self._kinds = {}
        self._seen = []
        self._closed = False

    def _kind_of(self, code):
        kind = self._kinds.get(id(code))
        if kind is None:
            if hooks.is_agent_file(code.co_filename):
                kind = _AGENT
            elif code is _create_task_code():
                kind = _TASK_MAKER
            elif code.co_flags & _STEPPED:
                kind = _yield_offsets(code)
            else:
                kind = _PLAIN
            self._kinds[id(code)] = kind
            self._seen.append(code)
        return kind

    @staticmethod
    def _set(state, fn):
        sys.setprofile(fn)
        state.installed = fn

    def _restore(self, state):
        if sys.getprofile() is state.installed:
            sys.setprofile(state.prev)
        state.installed = None

    def _idle_function(self, state):
        def idle(frame, event, arg):
            try:
                if event != 'call':
                    return
                if self._closed:
                    self._restore(state)
                    return
                followed = state.followed
                rec = followed.get(frame) if followed else None
                if rec is not None:
                    node = rec.open.get(frame)
                    if node is None:
                        followed.pop(frame, None)
                    else:
                        self._start_step(state, rec, node.depth, frame)
                    return
                rec = state.armed
                if rec is not None and _is_root(frame.f_code, rec.roots):
                    state.armed = None
                    self._start_step(state, rec, 0, frame)
            except Exception:  # never into the target's call: stop tracing it
                self._fail(state)

        return idle

    def _start_step(self, state, rec, depth, frame):
        rec.begin_step(depth)
        state.current = rec
        self._set(state, _chain(self._recording_function(state, rec), state.prev))
        # the call that starts the step: the bottom of the stack
        if type(self._kind_of(frame.f_code)) is frozenset:
            _enter_stepped(rec, frame, perf_counter())
        else:
            rec.stack.append(perf_counter())

    def _fail(self, state):
        """A bug of ours met something unforeseen: this thread's recording stops, the
        traced call goes on untouched (what a profile function raises would go into it:
        docs/trace-internals.md §5)."""
        error = _stopped(sys.exc_info()[1])
        for rec in (state.current, state.armed) + tuple(state.followed.values()):
            if rec is not None:
                rec.error = error
        state.current = None
        state.armed = None
        state.followed.clear()
        self._restore(state)

    def _step_over(self, state):
        state.current = None
        if state.unused():
            self._restore(state)
        else:
            self._set(state, state.idle)

    def _recording_function(self, state, rec):
        stack = rec.stack
        push = stack.append
        pop = stack.pop
        kinds_get = self._kinds.get
        interval = self.interval
        clock = perf_counter
        call_slow, return_slow, record, step_over = self._call_slow, self._return_slow, self._record, self._step_over
        PLAIN, HIDDEN = _PLAIN, _HIDDEN

        def recording(frame, event, arg):
            try:
                if event == 'call':
                    kind = kinds_get(id(frame.f_code))
                    if kind is PLAIN and stack[-1] is not HIDDEN:
                        push(clock())
                    else:
                        call_slow(rec, frame, kind)
                elif event == 'c_call':
                    push(clock())
                elif stack:
                    t1 = clock()
                    t0 = pop()
                    if type(t0) is float:
                        if t1 - t0 >= interval or not stack:
                            record(rec, frame, event, arg, t0, t1)
                    else:
                        return_slow(state, rec, frame, event, arg, t0, t1)
                    if not stack:
                        step_over(state)  # the step (or the whole call) is over
            except Exception:  # never into the target's call: stop tracing it
                self._fail(state)

        return recording

    def _call_slow(self, rec, frame, kind):
        stack = rec.stack
        if kind is None:
            kind = self._kind_of(frame.f_code)
        if kind is _AGENT or (stack and stack[-1] is _HIDDEN and hooks._in_callback()):
            # the agent's frame, or what its callbacks run (a user's -f expression)
            stack.append(_HIDDEN)
            rec.hidden += 1
        elif kind is _PLAIN:
            stack.append(perf_counter())
        elif kind is _TASK_MAKER:
            stack.append(_TaskMakerStart(perf_counter()))
        else:
            _enter_stepped(rec, frame, perf_counter())

    def _return_slow(self, state, rec, frame, event, arg, entry, t1):
        if entry is _HIDDEN:
            rec.hidden -= 1
        elif type(entry) is Node:
            _leave_stepped(rec, entry, frame, arg, frame.f_lasti in self._kind_of(frame.f_code), t1)
        else:  # create_task returned
            followed = _task_made(rec, arg, rec.stack)
            if followed is not None:
                state.followed[followed] = rec
            if t1 - entry >= self.interval:
                self._record(rec, frame, event, arg, entry, t1)

    def _record(self, rec, frame, event, arg, t0, t1):
        stack = rec.stack
        depth = rec.base + len(stack) - rec.hidden
        records = rec.records
        if depth > self.max_depth or len(records) >= MAX_RECORDS:
            rec.dropped(depth)
            return
        parent = stack[-1] if stack else None
        if event == 'return':
            if parent is _HIDDEN:
                parent = _parent_below(stack)
                caller, line = _user_caller(frame)
            else:
                back = frame.f_back
                caller, line = (back.f_code, back.f_lineno) if back is not None else (None, 0)
            records.append((frame.f_code, parent, t0, t1 - t0, line, depth, caller, None))
        elif parent is not _HIDDEN:  # c_return / c_exception: frame is the caller
            records.append((arg, parent, t0, t1 - t0, frame.f_lineno, depth, frame.f_code, None))

    def _state(self):
        """This thread's state, with our idle function set unless one of ours is (raises
        TraceUnavailable when the thread runs a profiler that cannot be chained). A
        thread's state is made once per command: a busy handler begins on every call."""
        tid = get_ident()
        state = self._threads.get(tid)
        current = sys.getprofile()
        if state is not None and current is not None and current is state.installed:
            return state
        if current is not None and not isinstance(current, (types.FunctionType, types.MethodType)):
            raise TraceUnavailable(
                'thread %d runs a C-level profiler (%s) that cannot be chained on Python %d.%d'
                % (tid, type(current).__name__, sys.version_info[0], sys.version_info[1])
            )
        if state is None:
            state = self._threads[tid] = _ThreadState(current)
            state.idle = _chain(self._idle_function(state), current)
        elif current is not state.prev:
            state.prev = current  # the thread's own function changed: chain the one there now
            state.idle = _chain(self._idle_function(state), current)
        self._set(state, state.idle)
        return state

    def begin(self, root_codes, suspended=False):
        state = self._threads.get(get_ident())
        if state is not None and state.current is not None:
            return None  # a call inside a traced call is part of that call's tree
        rec = Recording(root_codes, self.interval, self.max_depth)
        if not suspended:
            self._state().armed = rec
        return rec

    def resume(self, rec):
        # the step starts with agent code (the stepping driver): recording starts at the
        # call of the traced frame itself
        self._state().armed = rec

    def pause(self, rec):
        state = self._threads.get(get_ident())
        if state is None:
            return
        if state.armed is rec:
            state.armed = None
        if state.current is rec:
            self._step_over(state)
        elif state.unused():
            self._restore(state)

    def end(self, rec):
        _finish(rec)
        tid = get_ident()
        for thread, state in list(self._threads.items()):
            if state.armed is rec:
                state.armed = None
            for frame, r in list(state.followed.items()):
                if r is rec:
                    state.followed.pop(frame, None)
            if thread == tid:
                if state.current is rec:
                    self._step_over(state)
                elif state.unused():
                    self._restore(state)

    def forget_in_child(self):
        """After os.fork(), in the child (only the forking thread is left): a traced call
        it was inside would record into a tree nobody reads for as long as it runs (a
        worker forked from inside the call: for good). Our function comes off now."""
        state = self._threads.get(get_ident())
        if state is not None:
            state.current = state.armed = None
            state.followed.clear()
            self._restore(state)
        self.close()

    def close(self):
        # a thread that still has our function (a traced call that never ended) takes it
        # off at its next call
        self._closed = True
        self._kinds.clear()
        del self._seen[:]
        self._threads.clear()


class _MonitoringBackend(object):
    """3.12+: ``sys.monitoring`` local events on the code objects the traced calls reach."""

    def __init__(self, interval, max_depth):
        monitoring = sys.monitoring
        events = monitoring.events
        self.interval = interval
        self.max_depth = max_depth
        self.tool = None
        for tool in (4, 3, 5, 1, 0, 2):  # leave the well-known ids (PROFILER=2, DEBUGGER=0) for last
            try:
                monitoring.use_tool_id(tool, 'spyglass-trace')
            except ValueError:
                continue
            self.tool = tool
            break
        if self.tool is None:
            raise TraceUnavailable('all 6 sys.monitoring tool ids are in use by other tools')
        self._local = (
            events.PY_START
            | events.PY_RESUME
            | events.PY_RETURN
            | events.PY_YIELD
            | events.CALL
            | events.C_RETURN
            | events.C_RAISE
        )
        self._active = {}  # thread id -> Recording (only while a step of a traced call runs)
        self._followed = {}  # frame of a followed task -> its Recording
        # id -> code: a hook site runs a copy that compares equal to the original code
        # (hooks.py), each code object must get its own local events, and a code object
        # hashes its whole contents on every look-up
        self._codes = {}
        self._kinds = {}  # id(code) -> "stepped" or _TASK_MAKER (plain codes are absent)
        self._register(events, interval, max_depth)
        monitoring.set_events(self.tool, events.PY_UNWIND | events.PY_THROW)

    def _instrument(self, code):
        if id(code) in self._codes:
            return
        if hooks.is_agent_file(code.co_filename):
            if hooks.is_wrapper(code):
                # a function hooked by another command: what runs is the original code,
                # called by the agent (not an event), so it is instrumented here
                self._codes[id(code)] = code
                for const in code.co_consts:
                    original = getattr(const, 'code', None)  # the hook's site
                    if isinstance(original, types.CodeType):
                        self._instrument(original)
            return
        self._codes[id(code)] = code
        if code.co_flags & _STEPPED:
            self._kinds[id(code)] = 'stepped'
        elif code is _create_task_code():
            self._kinds[id(code)] = _TASK_MAKER
        sys.monitoring.set_local_events(self.tool, code, self._local)

    def _register(self, events, interval, max_depth):
        active = self._active
        active_get = active.get
        followed = self._followed
        codes = self._codes
        kinds_get = self._kinds.get
        instrument = self._instrument
        timed = _TIMED_CALLABLES
        timed_c = _TIMED_CALLABLES - {type}  # a class is timed too, and its __init__ discovered
        clock = perf_counter
        getframe = sys._getframe
        FunctionType = types.FunctionType
        MethodType = types.MethodType
        MAX = MAX_RECORDS
        is_agent_file = hooks.is_agent_file

        # Each event callback is made for how far up the stack the frame that fired the
        # event is (1 from the callback itself; 2 when PY_THROW/PY_UNWIND hand it on).

        def fail():
            # a bug of ours met something unforeseen: this thread's recording stops, the
            # traced call goes on untouched
            error = _stopped(sys.exc_info()[1])
            rec = active.pop(get_ident(), None)
            if rec is not None:
                rec.error = error

        def start_followed(tid, frame):
            # a step of a task the traced call created, run by the event loop
            rec = followed.get(frame)
            if rec is None:
                return
            node = rec.open.get(frame)
            if node is None:
                followed.pop(frame, None)
                return
            active[tid] = rec
            rec.begin_step(node.depth)
            _enter_stepped(rec, frame, clock())

        def make_start(up):
            def on_start(code, offset):
                try:
                    tid = get_ident()
                    rec = active_get(tid)
                    if rec is None:
                        if followed:
                            start_followed(tid, getframe(up))
                        return
                    kind = kinds_get(id(code))
                    if kind is None:
                        rec.stack.append(clock())
                    elif kind is _TASK_MAKER:
                        rec.stack.append(_TaskMakerStart(clock()))
                    else:
                        _enter_stepped(rec, getframe(up), clock())
                except Exception:  # never into the target's call: stop tracing it
                    fail()

            return on_start

        def make_resume(up):
            def on_resume(code, offset):
                try:
                    tid = get_ident()
                    rec = active_get(tid)
                    if rec is None:
                        if followed:
                            start_followed(tid, getframe(up))
                        return
                    _enter_stepped(rec, getframe(up), clock())
                except Exception:  # never into the target's call: stop tracing it
                    fail()

            return on_resume

        def record(rec, what, t0, t1, caller, line):
            stack = rec.stack
            depth = rec.base + len(stack)
            if depth <= max_depth and len(rec.records) < MAX:
                rec.records.append((what, stack[-1] if stack else None, t0, t1 - t0, line, depth, caller, None))
            else:
                rec.dropped(depth)

        def record_py(rec, code, t0, t1, frame):
            # the caller: the agent's frames (a hook's wrapper) are not events, and not lines
            back = frame.f_back
            if back is not None and is_agent_file(back.f_code.co_filename):
                caller, line = _user_caller(frame)
            elif back is not None:
                caller, line = back.f_code, back.f_lineno or 0
            else:
                caller, line = None, 0
            record(rec, code, t0, t1, caller, line)

        def step_over(tid, rec):
            if active_get(tid) is rec:
                del active[tid]

        def make_end(up):
            def on_end(code, offset, value):
                try:
                    tid = get_ident()
                    rec = active_get(tid)
                    if rec is None or not rec.stack:
                        return
                    t1 = clock()
                    stack = rec.stack
                    t0 = stack.pop()
                    if type(t0) is float:
                        if t1 - t0 >= interval or not stack:
                            record_py(rec, code, t0, t1, getframe(up))
                    elif type(t0) is Node:
                        _leave_stepped(rec, t0, getframe(up), value, False, t1)
                    else:  # create_task returned
                        frame = _task_made(rec, value, stack)
                        if frame is not None:
                            instrument(frame.f_code)
                            followed[frame] = rec
                        if t1 - t0 >= interval:
                            record_py(rec, code, t0, t1, getframe(up))
                    if not stack:
                        step_over(tid, rec)
                except Exception:  # never into the target's call: stop tracing it
                    fail()

            return on_end

        def on_yield(code, offset, value):
            try:
                tid = get_ident()
                rec = active_get(tid)
                if rec is None or not rec.stack:
                    return
                t1 = clock()
                stack = rec.stack
                node = stack.pop()
                if type(node) is Node:
                    _leave_stepped(rec, node, getframe(1), value, True, t1)
                if not stack:
                    step_over(tid, rec)
            except Exception:  # never into the target's call: stop tracing it
                fail()

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
                for name in ('__init__', '__new__'):
                    f = getattr(fn, name, None)
                    if type(f) is FunctionType and id(f.__code__) not in codes:
                        instrument(f.__code__)
            else:
                call = getattr(kind, '__call__', None)  # noqa: B004 (the class's own Python __call__, not callability)
                if type(call) is FunctionType and id(call.__code__) not in codes:
                    instrument(call.__code__)
                inner = getattr(fn, 'func', None)  # functools.partial
                if type(inner) is FunctionType and id(inner.__code__) not in codes:
                    instrument(inner.__code__)

        def on_call(code, offset, fn, arg0):
            try:
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
            except Exception:  # never into the target's call: stop tracing it
                fail()

        def on_c_end(code, offset, fn, arg0):
            try:
                rec = active_get(get_ident())
                if rec is not None and rec.stack and (type(fn) in timed or isinstance(fn, type)):
                    t1 = clock()
                    t0 = rec.stack.pop()
                    if t1 - t0 >= interval:
                        caller = getframe(1)
                        record(rec, fn, t0, t1, caller.f_code, caller.f_lineno or 0)
            except Exception:  # never into the target's call: stop tracing it
                fail()

        on_start, on_resume, on_end = make_start(1), make_resume(1), make_end(1)
        start_thrown, resume_thrown, end_unwound = make_start(2), make_resume(2), make_end(2)

        def on_unwind(code, offset, exc):
            if id(code) in codes:
                end_unwound(code, offset, exc)

        def on_throw(code, offset, exc):
            if id(code) in codes:
                if kinds_get(id(code)) == 'stepped':
                    resume_thrown(code, offset)
                else:
                    start_thrown(code, offset)

        register = sys.monitoring.register_callback
        register(self.tool, events.PY_START, on_start)
        register(self.tool, events.PY_RESUME, on_resume)
        register(self.tool, events.PY_RETURN, on_end)
        register(self.tool, events.PY_YIELD, on_yield)
        register(self.tool, events.CALL, on_call)
        register(self.tool, events.C_RETURN, on_c_end)
        register(self.tool, events.C_RAISE, on_c_end)
        register(self.tool, events.PY_UNWIND, on_unwind)
        register(self.tool, events.PY_THROW, on_throw)

    def begin(self, root_codes, suspended=False):
        tid = get_ident()
        if tid in self._active:
            return None  # a call inside a traced call is part of that call's tree
        for code in root_codes:
            self._instrument(code)
        rec = Recording(root_codes, self.interval, self.max_depth)
        if not suspended:
            self._active[tid] = rec
        return rec

    def pause(self, rec):
        tid = get_ident()
        if self._active.get(tid) is rec:
            del self._active[tid]

    def resume(self, rec):
        rec.begin_step(0)
        self._active[get_ident()] = rec

    def end(self, rec):
        tid = get_ident()
        if self._active.get(tid) is rec:
            del self._active[tid]
        for frame, r in list(self._followed.items()):  # other threads may add theirs meanwhile
            if r is rec:
                self._followed.pop(frame, None)
        _finish(rec)

    def forget_in_child(self):
        """After os.fork(), in the child: no command will end this trace there; the tool
        id and its events would stay registered for the child's whole life."""
        self._active.clear()
        self.close()

    def close(self):
        if self.tool is None:
            return
        monitoring = sys.monitoring
        monitoring.set_events(self.tool, 0)
        # a snapshot: a thread still inside a traced call may instrument another code
        # meanwhile, and iterating the dict itself would then raise and leave the tool set
        for code in list(self._codes.values()):
            monitoring.set_local_events(self.tool, code, 0)
        for event in (
            'PY_START',
            'PY_RESUME',
            'PY_RETURN',
            'PY_YIELD',
            'CALL',
            'C_RETURN',
            'C_RAISE',
            'PY_UNWIND',
            'PY_THROW',
        ):
            monitoring.register_callback(self.tool, getattr(monitoring.events, event), None)
        monitoring.free_tool_id(self.tool)
        self._codes.clear()
        self._kinds.clear()
        self._followed.clear()
        self.tool = None


def make_tracer(interval_s, max_depth=None):
    """A backend for one trace command: ``begin(root_codes)``/``end()`` around each traced
    call (root_codes: the code objects the call runs as its own), and
    ``close()`` at the end of the command. An async call is begun ``suspended=True`` and
    each step of the coroutine runs between ``resume()`` and ``pause()``."""
    depth = sys.maxsize if max_depth is None else max_depth
    backend = (_MonitoringBackend if HAS_MONITORING else _ProfileBackend)(interval_s, depth)
    _open_backends.add(backend)
    return backend


# the backends of the trace commands running now (a closed one is collected)
_open_backends = weakref.WeakSet()


def _forget_in_child():
    for backend in list(_open_backends):
        try:
            backend.forget_in_child()
        except Exception:
            pass  # nothing of ours may fail the target's fork
    _open_backends.clear()


os.register_at_fork(after_in_child=_forget_in_child)


# ---- agent thread: records -> tree -------------------------------------------------


def _describe(what, paths):
    """(kind, name, file, line, path) of a record's callable; a C function's file and line
    are its call site's, filled in from the parent."""
    if isinstance(what, types.CodeType):
        name = getattr(what, 'co_qualname', what.co_name)
        return ('py', name, short_path(what.co_filename, paths), what.co_firstlineno, what.co_filename)
    name = getattr(what, '__qualname__', None) or getattr(what, '__name__', None) or type(what).__name__
    module = getattr(what, '__module__', None)
    if isinstance(module, str) and module not in ('builtins', '__main__') and not name.startswith(module + '.'):
        name = module + '.' + name
    return ('c', name, '', 0, '')


def short_path(path, paths):
    """A file name relative to the sys.path entry that holds it (the reference tool's
    habit), or as it is when no entry does."""
    best = ''
    for p in paths:
        if p and len(p) > len(best) and path.startswith(p.rstrip('/') + '/'):
            best = p.rstrip('/')
    return path[len(best) + 1 :] if best else path


# the file name of importlib's frozen bootstrap frames (and _bootstrap_external's)
IMPORT_MACHINERY = '<frozen importlib._bootstrap'

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

    def build(self, rec, root_code, total_cost_s):
        """The recorded call as a tree of dicts: name, kind, file, path, line, call_line,
        cost_ms, count, max_ms, children; a generator call also has suspended_ms, waits
        ([{on, ms}]), task and unfinished. Calls of the same callable from one line under
        one parent are merged into one node (count, total and max), in the order first
        seen. ``line``/``call_line`` are 0 where the line cannot be told."""
        records = list(rec.records)
        root = None
        by_key = {}
        for r in records:
            by_key[r[7] if r[7] is not None else r[2]] = r
            if r[1] is None and _is_root(r[0], rec.roots):
                root = r
        kids = {}  # id(parent record) -> its child records
        for r in records:
            if r is root or r[1] is None:
                continue
            parent = by_key.get(r[1], root)  # a dropped parent (a task left running): under the root
            kids.setdefault(id(parent), []).append(r)
        named = self._describe

        def merge(parent, parent_desc):
            out = []
            nodes = {}
            for r in sorted(kids.get(id(parent), ()), key=lambda r: r[2]):
                what, _, _, cost, call_line, _, caller, stepped = r
                kind, name, file, line, path = named(what)
                if kind == 'py' and path.startswith(IMPORT_MACHINERY):
                    # a first import's dozens of frames, as the reference leaves them out
                    # (its time stays in the parent's): 3.8-3.11 trace them, 3.12+ do not
                    continue
                parent_code = parent[0] if parent is not None else root_code
                if caller is not parent_code:
                    call_line = 0  # called from a frame that is not its parent's (unknown line)
                if kind == 'c':
                    file, line, path = parent_desc[2], call_line, parent_desc[4]
                task = stepped is not None and stepped.task
                key = (kind, name, file, line, call_line, task)
                node = nodes.get(key)
                if node is None:
                    node = {
                        'name': name,
                        'kind': kind,
                        'file': file,
                        'path': path,
                        'line': line,
                        'call_line': call_line,
                        'cost_ms': 0.0,
                        'max_ms': 0.0,
                        'count': 0,
                        '_records': [],
                    }
                    nodes[key] = node
                    out.append(node)
                node['cost_ms'] += cost * 1000.0
                node['max_ms'] = max(node['max_ms'], cost * 1000.0)
                node['count'] += 1
                if stepped is not None:
                    _add_steps(node, stepped)
                node['_records'].append(r)
            for node in out:
                desc = (node['kind'], node['name'], node['file'], node['line'], node['path'])
                node['children'] = [c for r in node.pop('_records') for c in merge(r, desc)]
                node['children'] = _remerge(node['children'])
            return out

        root_desc = named(root_code)
        kind, name, file, line, path = root_desc
        tree = {
            'name': name,
            'kind': kind,
            'file': file,
            'path': path,
            'line': line,
            'cost_ms': total_cost_s * 1000.0,
            'max_ms': total_cost_s * 1000.0,
            'count': 1,
            'call_line': 0,
            'children': _remerge(merge(root, root_desc)),
        }
        if root is not None and root[7] is not None:
            _add_steps(tree, root[7])
        return tree


def _add_waits(node, suspended_ms, waits):
    """Suspended time and what it waited on, added to a (possibly merged) tree node."""
    node['suspended_ms'] = node.get('suspended_ms', 0.0) + suspended_ms
    merged = {w['on']: w['ms'] for w in node.get('waits', ())}
    for on, ms in waits:
        merged[on] = merged.get(on, 0.0) + ms
    node['waits'] = [{'on': on, 'ms': ms} for on, ms in sorted(merged.items(), key=lambda kv: -kv[1])]


def _add_steps(node, stepped):
    """A generator call's suspensions, added to its tree node."""
    _add_waits(
        node,
        stepped.suspended * 1000.0,
        [(on, seconds * 1000.0) for on, seconds in stepped.waits.items() if on is not None],
    )
    node['task'] = node.get('task', False) or stepped.task
    node['unfinished'] = node.get('unfinished', False) or stepped.unfinished


def _remerge(children):
    """Children of a merged node come from each of its calls: the same callable from the
    same line is one node across them too."""
    out = []
    seen = {}
    for c in children:
        key = (c['kind'], c['name'], c['file'], c['line'], c['call_line'], c.get('task', False))
        first = seen.get(key)
        if first is None:
            seen[key] = c
            out.append(c)
            continue
        first['cost_ms'] += c['cost_ms']
        first['max_ms'] = max(first['max_ms'], c['max_ms'])
        first['count'] += c['count']
        first['children'] = _remerge(first['children'] + c['children'])
        if 'suspended_ms' in c:
            _add_waits(first, c['suspended_ms'], [(w['on'], w['ms']) for w in c['waits']])
            first['unfinished'] = first['unfinished'] or c['unfinished']
    return out
