"""tt's recording and replay, independent of the wire: `record_advice` makes the hook
callbacks that fill a record store; `replay` calls a recorded call again. Rendering of
records for the client lives in commands/tt/__init__.py.
"""

import asyncio
import inspect
import threading
import time

from ... import names, observe
from ...errors import AgentError
from .tt_records import snapshot

SELF_KEPT = 'self: kept by reference (replay acts on the live object)'

_replaying = threading.local()


def replaying():
    return getattr(_replaying, 'active', False)


class CallSpec(object):
    """What is recorded: `module [class] method [-nm nested]`, and how its first argument binds."""

    def __init__(self, module, cls, method, nested=None, binds_first=False):
        self.module = module
        self.cls = cls
        self.method = method
        self.nested = nested
        # True when args[0] is self/cls (a method that is not a staticmethod)
        self.binds_first = binds_first


def record_advice(store, spec, limit, filter_fn, on_record, on_limit):
    """(on_enter, on_exit) hook callbacks recording up to `limit` calls into `store`.

    Arguments are snapshotted before the call runs, so a method that mutates them (or
    the application, later) cannot change what was recorded. `filter_fn(target,
    return_obj, cost, args, kwargs)` sees the snapshots; calls it rejects do not use up
    the limit. on_record(record, dropped_indexes) is called on the application thread.
    """
    lock = threading.Lock()
    state = {'count': 0}

    def on_enter(args, kwargs):
        if replaying() or state['count'] >= limit:
            return None
        cap = store.max_bytes
        snaps = tuple(
            snapshot(a, SELF_KEPT if (i == 0 and spec.binds_first) else None, cap) for i, a in enumerate(args)
        )
        return time.time(), snaps, dict((k, snapshot(v, max_bytes=cap)) for k, v in kwargs.items())

    def on_exit(token, value, exc, cost):
        if token is None:
            return
        started, args, kwargs = token
        cost_ms = cost * 1000.0
        if filter_fn is not None and not filter_fn(*filter_values(args, kwargs, spec.binds_first, value, cost_ms)):
            return
        with lock:
            if state['count'] >= limit:
                return
            state['count'] += 1
            last = state['count'] >= limit
        rec, dropped = store.add(
            spec.module,
            spec.cls,
            spec.method,
            spec.binds_first,
            args,
            kwargs,
            None if exc is not None else snapshot(value, max_bytes=store.max_bytes),
            _exception_info(exc),
            cost_ms,
            timestamp=started,
            nested=spec.nested,
        )
        on_record(rec, dropped)
        if last:
            on_limit()

    return on_enter, on_exit


def _exception_info(exc):
    if exc is None:
        return None
    info = observe.exception_info(exc, exc.__traceback__)  # taken as the call ends
    info['value'] = snapshot(exc, 'exception object')
    return info


def current_function(rec):
    """The function as it is defined now (a reloaded or patched method replays the new code)."""
    try:
        module = names.find_module(rec.module)
        owner = names.find_class(module, rec.cls) if rec.cls else module
    except AgentError as e:
        raise AgentError(e.type, 'cannot replay %d: %s' % (rec.index, e.message), e.hint)
    try:
        raw = inspect.getattr_static(owner, rec.method)
    except AttributeError:
        raise AgentError(
            'NotFound', 'cannot replay %d: %s no longer has %s' % (rec.index, rec.cls or rec.module, rec.method)
        )
    if isinstance(raw, property):
        return raw.fget  # what the hook was on (names.find_function): the getter is the call
    return raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw


def replay(store, index, timeout=None):
    """Calls record `index` again with its recorded arguments; returns (new record, dropped)."""
    rec = store.get(index)
    if rec is None:
        raise AgentError('NotFound', 'no record %d' % index, hint='`tt -l` lists the records')
    if rec.nested:
        raise AgentError(
            'BadArguments',
            'record %d is of a nested function (%s): its closure belonged to one call of the outer function, so it cannot be replayed'
            % (index, rec.nested),
        )
    if rec.values_dropped:
        raise AgentError(
            'BadArguments', 'record %d kept no arguments (over the memory cap), so it cannot be replayed' % index
        )
    fn = current_function(rec)
    args = [s.fresh() for s in rec.args]
    kwargs = dict((k, s.fresh()) for k, s in rec.kwargs.items())
    outcome = {}

    def run():
        # a fresh thread: never the agent's I/O thread, and a coroutine gets its own loop
        _replaying.active = True
        start = time.perf_counter()
        try:
            value = fn(*args, **kwargs)
            if inspect.isawaitable(value):
                loop = asyncio.new_event_loop()
                asyncio.set_event_loop(loop)
                try:
                    value = loop.run_until_complete(value)
                finally:
                    asyncio.set_event_loop(None)
                    loop.close()
            outcome['value'] = value
        except BaseException as e:
            outcome['exc'] = e
        outcome['cost'] = (time.perf_counter() - start) * 1000.0

    started = time.time()
    worker = threading.Thread(target=run, name='spyglass-tt-replay-%d' % index)
    worker.daemon = True
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise AgentError(
            'Timeout', 'replay of %d still running after %gs; it goes on in the background' % (index, timeout)
        )
    exc = outcome.get('exc')
    if isinstance(exc, SystemExit):
        exc = RuntimeError('the replayed call raised SystemExit(%r) (the target was not stopped)' % (exc.code,))
    return store.add(
        rec.module,
        rec.cls,
        rec.method,
        rec.is_method,
        rec.args,
        rec.kwargs,
        None if exc is not None else snapshot(outcome.get('value'), max_bytes=store.max_bytes),
        _exception_info(exc),
        outcome['cost'],
        timestamp=started,
        replay_of=index,
        thread=worker.name,
    )


def filter_values(args, kwargs, binds_first, value, cost_ms):
    """(target, return_obj, cost, args, kwargs) of a call from its snapshots: what -f sees,
    at record time and in `tt -l -f`."""
    own = args[1:] if binds_first else args
    target = args[0].value if binds_first and args else None
    return target, value, cost_ms, tuple(s.value for s in own), dict((k, s.value) for k, s in kwargs.items())


def run_filter(fn):
    """Wraps a compiled -f: an expression that raises counts as 'not matched' and is remembered."""
    errors = []

    def check(*a):
        try:
            return bool(fn(*a))
        except Exception as e:
            if not errors:
                errors.append('%s: %s' % (type(e).__name__, e))
            return False

    return check, errors
