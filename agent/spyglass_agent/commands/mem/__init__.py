"""`mem`: what the target's Python heap holds, what grows, who allocates it and who keeps it.

- summary: every object grouped by type (count, total sys.getsizeof), pure stdlib
  (summary.py).
- diff: two summaries an interval apart, per-type signed deltas.
- top: tracemalloc for the interval only (allocations.py).
- refs: what keeps one live instance alive, back to a module global or a thread's local
  variable (referrers.py).
"""

import time

from ... import hooks, observe
from ...errors import bad_args
from .allocations import top_lines
from .referrers import referrer_chain
from .summary import diff_of, rows_of, summarize

NAME = 'mem'


def run(ctx):
    action = ctx.arg('action', str, required=True)
    limit = observe.int_arg(ctx, 'limit', 15, 1)
    order = ctx.arg('order', str, 'descending')
    if order not in ('descending', 'ascending'):
        raise bad_args('mem: --order must be descending or ascending, not %r' % order)
    if action == 'summary':
        started = time.monotonic()
        table, seen = summarize(ctx.done.is_set)
        out = rows_of(table, limit, order)
        out.update(objects=seen, seconds=time.monotonic() - started)
        return out
    if action == 'diff':
        interval = observe.float_arg(ctx, 'interval', 15.0, 0.0)
        before, _ = summarize(ctx.done.is_set)
        ctx.emit('progress', {'message': 'first summary taken; the second follows in %g s' % interval})
        if ctx.wait(interval):
            return {'cancelled': True}
        after, _ = summarize(ctx.done.is_set, earlier=before)
        out = diff_of(before, after, limit, order)
        out['interval'] = interval
        return out
    if action == 'top':
        interval = observe.float_arg(ctx, 'interval', 10.0, 0.1)
        ctx.emit('progress', {'message': 'tracing allocations for %g s' % interval})
        return top_lines(interval, limit, ctx.done.is_set, hooks.AGENT_DIR)
    if action == 'refs':
        return referrer_chain(ctx.arg('module', str, required=True), ctx.arg('cls', str, required=True))
    raise bad_args('mem: unknown action %r' % action, hint='mem summary | diff | top | refs')
