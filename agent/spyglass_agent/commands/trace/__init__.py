"""`trace module [class] method [-i INTERVAL_MS] [-nm NESTED] [-et ENTRANCE_MS] [-d DEPTH]
[-n LIMIT] [-f FILTER]`: for each call, the tree of calls made inside it with their cost.

- ``-f`` (``target, args, kwargs``) is evaluated before the call; a rejected call runs
  with nothing recorded.
- Recording (tracer.py) runs on the calling thread for the duration of that call only;
  an ``async def`` or generator call is recorded one step at a time, and every coroutine
  or generator call inside it is one node across its steps, with the time it spent
  suspended and on what; tasks it creates are followed on its event loop's thread.
- ``-et`` is decided here, as the call ends, on the whole call's wall time (an async
  call's from its first step to its return): a cheaper call is dropped before anything is
  built or shipped. ``-n`` counts the calls shown.
- Building the tree (names, paths, merging repeated calls) happens on this command's thread;
  each callable is named once per command.

Events: ``started`` {method, file, line, interval_ms, depth, backend}, then one ``trace``
per shown call: {time, method, thread, cost_ms, exception: {type, message} | absent,
tree}, where a tree node is {name, kind: py|c, file, path, line, call_line, cost_ms,
max_ms, count, children} (line, call_line: 0 where unknown) and a coroutine or generator
call's node also has {suspended_ms, waits: [{on, ms}], task, unfinished}; and, when the
recording lacks calls, truncated: {over_budget: calls past the recorder's budget,
below_depth: calls deeper than -d, error: why the recorder stopped} (those that apply).
Or {time, method, thread, filter_error: {expr, error}} / {..., unavailable: reason} for
a call that could not be traced. End data: {shown,
dropped, reason}.
"""

import time

from ... import observe
from . import tracer
from ...errors import AgentError
from ...expressions import BEFORE_CALL_NAMES
from ...threadnames import thread_info


NAME = 'trace'


def run(ctx):
    accept_expr = observe.compile_option(ctx, 'filter', '-f', BEFORE_CALL_NAMES)
    interval_ms = observe.float_arg(ctx, 'interval', 0.1, 0.0)
    entrance_ms = observe.float_arg(ctx, 'entrance', 0.0, 0.0)
    depth = ctx.arg('depth', int)
    if depth is not None and depth < 1:
        raise AgentError('BadArguments', 'trace: -d must be at least 1')
    limit = observe.int_arg(ctx, 'limit', 10, 1)
    target = observe.resolve(ctx)
    accept = accept_expr.bind(target.globals) if accept_expr is not None else None
    binds_first = target.binds_first
    stepwise = target.is_async or target.is_generator
    try:
        # -d N shows N levels, the traced call's own included, as the reference counts them
        recorder = tracer.make_tracer(interval_ms / 1000.0, None if depth is None else depth - 1)
    except tracer.TraceUnavailable as e:
        raise AgentError('TraceUnavailable', str(e))
    ctx.owner.add('trace recorder', recorder.close)
    handoff = observe.Handoff()
    passed = [0]
    clock = time.time

    def on_enter(args, kwargs, code):
        # code: what this call runs as its own (the original, a copy whose nested functions
        # another command hooks, the new code once reloaded), told by the hook itself
        if passed[0] >= limit:
            return None
        if accept is not None:
            this, rest = observe.split_args(args, binds_first)
            try:
                if not accept(this, rest, kwargs):
                    return None
            except Exception as e:
                passed[0] += 1
                handoff.put(('filter_error', clock(), thread_info(), observe.error_text(e)))
                return None
        try:
            rec = recorder.begin((code,), suspended=stepwise)
        except tracer.TraceUnavailable as e:
            passed[0] += 1
            handoff.put(('unavailable', clock(), thread_info(), str(e)))
            return None
        if rec is None:
            return None  # a recursive call: already part of the outer call's tree
        return rec, clock()

    def on_exit(token, value, exc, cost):
        if token is None:
            return
        rec, started = token
        recorder.end(rec)
        if cost * 1000.0 < entrance_ms or passed[0] >= limit:
            return
        passed[0] += 1
        handoff.put(('trace', started, thread_info(), (rec, cost, exc)))

    def on_resume(token):
        if token is not None:
            recorder.resume(token[0])

    def on_suspend(token):
        if token is not None:
            recorder.pause(token[0])

    shown = [0]
    trees = tracer.TreeBuilder()

    def show(batch):
        for kind, started, (thread, tid, daemon), detail in batch:
            event = {'time': started, 'method': target.label, 'thread': thread, 'tid': tid, 'daemon': daemon}
            if kind == 'filter_error':
                event['filter_error'] = {'expr': accept_expr.source, 'error': detail}
            elif kind == 'unavailable':
                event['unavailable'] = detail
            else:
                rec, cost, exc = detail
                event['cost_ms'] = cost * 1000.0
                if exc is not None:
                    event['exception'] = {'type': type(exc).__name__, 'message': observe.error_text(exc)}
                event['tree'] = trees.build(rec, target.code, cost)
                cut = rec.cut_short()
                if cut is not None:
                    event['truncated'] = cut
            ctx.emit('trace', event)
            shown[0] += 1
            if shown[0] >= limit:
                return True
        return False

    target.install(ctx, on_enter, on_exit, on_resume=on_resume, on_suspend=on_suspend, with_code=True)
    ctx.emit(
        'started',
        dict(
            target.location(),
            method=target.label,
            interval_ms=interval_ms,
            depth=depth,
            entrance_ms=entrance_ms,
            backend='sys.monitoring' if tracer.HAS_MONITORING else 'setprofile',
        ),
    )
    reason = observe.pump(ctx, handoff, show)
    return {'shown': shown[0], 'dropped': handoff.dropped, 'reason': reason}
