"""`tt`, the time tunnel: record calls of a function (`-t`), list them (`-l [-m]`), show one
(`-i`), replay one (`-i -p`), delete (`-d`, `-da`).

The records belong to the agent, not to a client: every client allowed to attach sees
the same records, so a one-shot `tt -t` can be listed and replayed by the next one. They
stay, under the memory cap, until `tt -d`/`tt -da` or the agent stops; `reset` and
detach remove hooks, not records. The hook goes when the `-t` request ends (its -n
limit reached, Ctrl-C, cancel, the client gone).
"""

import sys
import threading

from ... import observe, render
from ...errors import AgentError, bad_args
from ...expressions import AFTER_CALL_NAMES
from .timetunnel import CallSpec, current_function, filter_values, record_advice, replay, run_filter
from .tt_records import RecordStore

NAME = 'tt'

DEFAULT_LIMIT = 50
REPLAY_TIMEOUT = 60.0
SHORT_CHARS = 120

STORE_NAME = 'tt records'


def _store(ctx, max_mb=None):
    store = ctx.agent.shared(STORE_NAME, RecordStore)
    if max_mb is not None:
        store.max_bytes = max_mb << 20
    return store


def run(ctx):
    action = ctx.arg('action', str, required=True)
    if action == 'record':
        return _record(ctx)
    store = _store(ctx)
    if action == 'list':
        return _list(store, ctx.arg('method', str), _list_filter(ctx))
    if action == 'show':
        return _show(ctx, store, _index(ctx, store))
    if action == 'play':
        rec, dropped = replay(store, _index(ctx, store), REPLAY_TIMEOUT)
        out = _show(ctx, store, rec.index)
        out['dropped'] = dropped
        return out
    if action == 'delete':
        index = ctx.arg('index', int, required=True)
        if not store.delete(index):
            raise AgentError('NotFound', 'no record %d' % index, hint='`tt -l` lists the records')
        return {'deleted': 1, 'left': len(store)}
    if action == 'delete_all':
        return {'deleted': store.clear(), 'left': 0}
    raise bad_args('tt: unknown action %r' % action)


def _index(ctx, store):
    index = ctx.arg('index', int, required=True)
    if store.get(index) is None:
        raise AgentError('NotFound', 'no record %d' % index, hint='`tt -l` lists the records')
    return index


def _record(ctx):
    limit = observe.int_arg(ctx, 'limit', DEFAULT_LIMIT, 1)
    max_mb = ctx.arg('max_mem', int)
    if max_mb is not None and max_mb < 1:
        raise bad_args('tt: --max-mem must be at least 1 (MiB)')
    target = observe.resolve(ctx)
    check = errors = None
    compiled = observe.compile_option(ctx, 'filter', '-f', AFTER_CALL_NAMES)
    if compiled is not None:
        check, errors = run_filter(compiled.bind(target.globals))
    store = _store(ctx, max_mb)
    spec = CallSpec(
        ctx.arg('module', str), ctx.arg('cls', str), ctx.arg('method', str), target.nested, target.binds_first
    )
    # records are stored on the application thread (cheap); their summaries are rendered
    # and sent from this request's thread
    handoff = observe.Handoff()
    limit_reached = threading.Event()
    on_enter, on_exit = record_advice(
        store, spec, limit, check, lambda rec, dropped: handoff.put((rec, dropped)), limit_reached.set
    )
    target.install(ctx, on_enter, on_exit)
    ctx.emit(
        'started',
        {'target': target.label, 'limit': limit, 'max_mem_mb': store.max_bytes >> 20, 'location': target.location()},
    )
    # recorded: sent to the client; unsent: its outgoing queue was full
    counts = {'recorded': 0, 'unsent': 0}
    told = {'filter_error': False}
    dropped_before = store.dropped_for_cap

    def send(items):
        for rec, dropped in items:
            counts['recorded' if ctx.emit('record', _summary(rec)) else 'unsent'] += 1
            if dropped:
                ctx.emit(
                    'notice',
                    {
                        'text': 'memory cap of %d MiB reached: dropped the oldest record%s %s'
                        % (store.max_bytes >> 20, 's' if len(dropped) > 1 else '', _ranges(dropped)),
                        'dropped': dropped,
                    },
                )
        return counts['recorded'] + counts['unsent'] >= limit

    def done(now):
        if errors and not told['filter_error']:
            # said at once: a -f that raises on every call would otherwise record nothing, silently, until -n
            told['filter_error'] = True
            ctx.emit(
                'notice',
                {'text': '-f raised %s; calls it raises on are not recorded' % errors[0], 'filter_error': errors[0]},
            )
        # every call -n allows was recorded: counting the records sent is not enough, as
        # some may have been lost in a full hand-off. Send what is left, then stop.
        if not limit_reached.is_set():
            return False
        send(handoff.take())
        return True

    reason = observe.pump(ctx, handoff, send, done)
    # counted by the store: the notices of records lost in the hand-off are lost with them
    out = {
        'recorded': counts['recorded'],
        'dropped': store.dropped_for_cap - dropped_before,
        'records': len(store),
        'reason': reason,
        'lost': handoff.dropped + counts['unsent'],
    }
    if errors:
        out['filter_error'] = errors[0]
    return out


def _ranges(indexes):
    if len(indexes) > 3:
        return '%d-%d' % (indexes[0], indexes[-1])
    return ', '.join(str(i) for i in indexes)


def _short(value):
    """One line: a container of arguments shows each item's summary, not just its size."""
    node = render.render(value, expand=1 if isinstance(value, (tuple, dict)) else 0)
    children = node.get('children')
    if children and isinstance(value, tuple):
        text = '(%s%s)' % (', '.join(c['value']['repr'] for c in children), ',' if len(children) == 1 else '')
    elif children and isinstance(value, dict):
        text = '{%s}' % ', '.join('%s: %s' % (c['key']['repr'], c['value']['repr']) for c in children)
    else:
        text = node.get('repr', '')
    return text if len(text) <= SHORT_CHARS else text[: SHORT_CHARS - 3] + '...'


def _summary(rec):
    own = rec.args[1:] if rec.is_method else rec.args
    return {
        'index': rec.index,
        'timestamp': rec.timestamp,
        'cost_ms': rec.cost_ms,
        'method': rec.label(),
        'module': rec.module,
        'class': rec.cls,
        'function': rec.method + ('.' + rec.nested if rec.nested else ''),
        'is_return': rec.exception is None,
        'is_exception': rec.exception is not None,
        'args': _short(tuple(s.value for s in own)),
        'kwargs': _short(dict((k, s.value) for k, s in rec.kwargs.items())) if rec.kwargs else None,
        'result': _short(rec.result.value)
        if rec.exception is None
        else '%s: %s' % (rec.exception['type'], rec.exception['message'][:SHORT_CHARS]),
        'thread': rec.thread,
        'replay_of': rec.replay_of,
    }


def _list_filter(ctx):
    """tt -l -f: the records whose call the expression holds true for, over the values recorded."""
    compiled = observe.compile_option(ctx, 'filter', '-f', AFTER_CALL_NAMES)
    if compiled is None:
        return None
    bound = {}

    def check(rec):
        # evaluated in the recorded function's module, as at record time
        fn = bound.get(rec.module)
        if fn is None:
            module = sys.modules.get(rec.module)
            fn = bound[rec.module] = run_filter(compiled.bind(getattr(module, '__dict__', {})))[0]
        result = rec.result.value if rec.result is not None else None
        return fn(*filter_values(rec.args, rec.kwargs, rec.is_method, result, rec.cost_ms))

    return check


def _list(store, method_path, check=None):
    recs = store.list(method_path)
    if check is not None:
        recs = [r for r in recs if check(r)]
    return {
        'records': [_summary(r) for r in recs],
        'total': len(store),
        'dropped_for_cap': store.dropped_for_cap,
        'bytes_held': store.bytes_held,
        'max_bytes': store.max_bytes,
    }


def _show(ctx, store, index):
    rec = store.get(index)
    opts = (ctx.arg('expand', int, 1), bool(ctx.arg('verbose', bool, False)), bool(ctx.arg('raw', bool, False)))

    def value(snap, name):
        item = {'name': name, 'value': render.render(snap.value, *opts), 'copied': snap.copied}
        if not snap.copied:
            item['kept'] = snap.why
        return item

    params = _param_names(rec)
    out = _summary(rec)
    out['values_dropped'] = rec.values_dropped
    out['args'] = [value(s, params[i] if i < len(params) else 'args[%d]' % i) for i, s in enumerate(rec.args)]
    out['kwargs'] = [value(s, k) for k, s in rec.kwargs.items()]
    if rec.exception is None:
        out['result'] = value(rec.result, 'return_obj')
    else:
        exc = dict(rec.exception)
        exc['value'] = render.render(exc['value'].value, *opts)
        out['exception'] = exc
        out['result'] = None
    return out


def _param_names(rec):
    """Parameter names of the recorded function as it is now, to label positional args
    (a hook's wrapper has the same parameters as the original)."""
    if rec.nested:
        return []
    try:
        code = current_function(rec).__code__
        return list(code.co_varnames[: code.co_argcount])
    except (AgentError, AttributeError):
        return []
