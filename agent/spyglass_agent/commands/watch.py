"""`watch module [class] method [--expr EXPR] [-nm NESTED] [-e] [-r] [-v] [-n LIMIT]
[-x EXPAND] [-f FILTER]`: each call's cost and the values of ``--expr`` (default
``args,kwargs``), with ``target, return_obj, cost, args, kwargs`` in scope.

On the application thread a call costs the hook, the filter and, for a call that passes
it, evaluating the expressions (so values are taken when the call ends); rendering them
(-x/-v/-r, truncation, a user ``__repr__`` that raises) happens on this command's thread.
``-n`` counts only calls that passed the filter; the hook goes when the command ends.

``args`` and ``kwargs`` are the call's parameters as the function received them: the hook
keeps the function's own signature (so ``inspect.signature`` is unchanged), and so sees
the bound parameters rather than how the caller spelled the call. ``args`` holds every
positional-or-keyword parameter (one passed by keyword, or left to its default, too) and
``*args``; ``kwargs`` the keyword-only parameters and ``**kwargs``.

Events: ``started`` {method, file, line, async, generator}, then one ``call`` per shown
call: {time, method, thread, cost_ms, values: [{expr, value | error}]} with
``exception`` {type, message, traceback} when the call raised, or ``filter_error``
{expr, error} instead of values when -f raised on it. End data: {shown, dropped, reason}.
"""

import time

from .. import render
from ..expressions import AFTER_CALL_NAMES, ExpressionError, compile_items
from ..errors import AgentError, bad_args
from .. import observe
from ..threadnames import thread_name


NAME = 'watch'
DEFAULT_EXPR = 'args,kwargs'


def run(ctx):
    source = ctx.arg('expr', str) or DEFAULT_EXPR
    try:
        items = compile_items(source, AFTER_CALL_NAMES, '--expr')
    except ExpressionError as e:
        raise AgentError('BadExpression', str(e))
    filter_expr = observe.compile_option(ctx, 'filter', '-f', AFTER_CALL_NAMES)
    limit = observe.int_arg(ctx, 'limit', 10, 1)
    expand = ctx.arg('expand', int, 1)
    if expand != render.EXPAND_ALL and not 1 <= expand <= render.EXPAND_MAX:
        raise bad_args(
            'watch: expand must be between 1 and %d, or %d for every level' % (render.EXPAND_MAX, render.EXPAND_ALL)
        )
    verbose = bool(ctx.arg('verbose', bool, False))
    raw = bool(ctx.arg('raw', bool, False))
    only_exceptions = bool(ctx.arg('exception', bool, False))
    target = observe.resolve(ctx)

    values_of = [(item.source, item.bind(target.globals)) for item in items]
    accept = filter_expr.bind(target.globals) if filter_expr is not None else None
    binds_first = target.binds_first
    handoff = observe.Handoff()
    passed = [0]
    clock = time.time

    def on_enter(args, kwargs):
        return args, kwargs

    def on_exit(token, value, exc, cost):
        if passed[0] >= limit or (only_exceptions and exc is None):
            return
        args, kwargs = token
        # shown later, with its traceback as it is now (observe.exception_info)
        raised = None if exc is None else (exc, exc.__traceback__)
        if binds_first and args:
            this, args = args[0], args[1:]
        else:
            this = None
        cost_ms = cost * 1000.0
        if accept is not None:
            try:
                if not accept(this, value, cost_ms, args, kwargs):
                    return
            except Exception as e:
                passed[0] += 1
                handoff.put((clock(), cost_ms, thread_name(), raised, None, observe.error_text(e)))
                return
        passed[0] += 1
        values = []
        for label, fn in values_of:
            try:
                values.append((label, fn(this, value, cost_ms, args, kwargs), None))
            except Exception as e:  # this call's error; the target's call is unaffected
                values.append((label, None, observe.error_text(e)))
        handoff.put((clock(), cost_ms, thread_name(), raised, values, None))

    shown = [0]

    def show(batch):
        for started, cost_ms, thread, raised, values, filter_error in batch:
            event = {'time': started, 'method': target.label, 'thread': thread, 'cost_ms': cost_ms}
            if raised is not None:
                event['exception'] = observe.exception_info(*raised)
            if filter_error is not None:
                event['filter_error'] = {'expr': filter_expr.source, 'error': filter_error}
            else:
                event['values'] = [
                    {'expr': label, 'error': error}
                    if error is not None
                    else {'expr': label, 'value': render.render(v, expand, verbose, raw)}
                    for label, v, error in values
                ]
            ctx.emit('call', event)
            shown[0] += 1
            if shown[0] >= limit:
                return True
        return False

    target.install(ctx, on_enter, on_exit)
    ctx.emit(
        'started',
        dict(
            target.location(),
            method=target.label,
            exprs=[label for label, _ in values_of],
            filter=filter_expr.source if filter_expr else None,
            **{'async': target.is_async, 'generator': target.is_generator},
        ),
    )
    reason = observe.pump(ctx, handoff, show)
    return {'shown': shown[0], 'dropped': handoff.dropped, 'reason': reason}
