"""`probe`: the smallest hook command: streams one ``call`` event per finished call of a
function (count, cost, whether it raised) and ends after ``n`` calls or on cancel. The
shell does not offer it; it exercises the hook engine and ownership end to end.

args: module, class (optional), method, nested (optional), n (optional)."""

import threading

from .. import hooks, names

NAME = 'probe'


def run(ctx):
    fn, where = names.find_function(
        ctx.arg('module', str, required=True), ctx.arg('class', str), ctx.arg('method', str, required=True)
    )
    nested = ctx.arg('nested', str)
    limit = ctx.arg('n', int)
    lock = threading.Lock()
    # a call can finish between install() and the 'hooked' event: it is held back until
    # 'hooked' has gone, so a client always sees 'hooked' first
    state = {'count': 0, 'held': []}

    def on_exit(token, value, exc, cost):
        with lock:
            if limit is not None and state['count'] >= limit:
                return
            state['count'] += 1
            count = state['count']
            call = {'count': count, 'cost_ms': cost * 1000.0, 'raised': exc is not None and type(exc).__name__}
            if state['held'] is not None:
                state['held'].append(call)
                return
            ctx.emit('call', call)
        if limit is not None and count >= limit:
            ctx.stop()

    handle = hooks.install(ctx.owner, fn, lambda args, kwargs: None, on_exit, nested=nested, where=where)
    with lock:  # emit only queues: held here, the order of the events stays the order of calls
        ctx.emit('hooked', {'target': handle.where})
        for call in state['held']:
            ctx.emit('call', call)
        state['held'] = None
    if limit is not None and state['count'] >= limit:
        ctx.stop()
    ctx.wait()
    return {'calls': state['count']}
