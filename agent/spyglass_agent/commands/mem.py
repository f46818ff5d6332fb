"""`mem`: what the target's Python heap holds, what grows, who allocates it and who keeps it.

- summary: every object grouped by type (count, total sys.getsizeof), pure stdlib.
  gc.get_objects() only lists objects the collector tracks (containers); the atoms they
  point at (str, int, float, bytes, and tuples/dicts the collector untracked) are found
  through gc.get_referents and counted once each. "Once" needs a record of which atoms
  were seen: a set of ids would cost ~100 bytes per atom (doubling a heap of strings),
  so a bitmap per 4 KiB page of address space is used instead: 64 bytes per page that
  holds any atom, under 2% of the heap. The one list made is gc.get_objects()'s own
  (8 bytes per tracked object); no object is copied. Modules whose traversal visits a
  free list are counted but never traversed (referents.py, docs/free-lists.md).
- diff: two summaries an interval apart, per-type signed deltas.
- top: tracemalloc for the interval only (left running if the target had started it).
- refs: from one live instance, referrers upwards until a module global or a local
  variable of a thread's frame, so the user sees what keeps it alive.
"""
import gc
import sys
import threading
import time

from .. import hooks, names, observe, referents
from ..errors import AgentError, bad_args

NAME = 'mem'

_PAGE_SHIFT = 12
_SLOT_SHIFT = 3  # objects are at least 8-byte aligned: 512 slots, 64 bytes a page


def type_name(t):
    module = getattr(t, '__module__', None)
    name = getattr(t, '__qualname__', None) or t.__name__
    if module in (None, 'builtins'):
        return name
    return '%s.%s' % (module, name)


def summarize(should_stop=None, earlier=None):
    """{type: [count, total_size]} over the whole heap, and the number of objects seen.

    Ignores the bookkeeping of this call (the gc list, the per-type table, the bitmaps)
    and the table of an ``earlier`` summary still alive (diff's first one), so a diff
    does not show the agent's own lists."""
    getsizeof = sys.getsizeof
    is_tracked = gc.is_tracked
    get_referents = gc.get_referents
    table = {}
    pages = {}
    objects = gc.get_objects()
    mine = {id(objects), id(table), id(pages)}
    if earlier is not None:
        mine.add(id(earlier))
        mine.update(id(entry) for entry in earlier.values())
    seen = 0
    chunk = 2000
    for start in range(0, len(objects), chunk):
        if should_stop is not None and should_stop():
            break
        batch = [o for o in objects[start:start + chunk] if id(o) not in mine]
        for o in batch:
            t = type(o)
            entry = table.get(t)
            if entry is None:
                entry = table[t] = [0, 0]
            entry[0] += 1
            entry[1] += getsizeof(o, 0)
        seen += len(batch)
        # atoms: referents the collector does not track, each counted once
        if referents.UNSAFE_MODULES:
            batch = [o for o in batch if not referents.unsafe_module(o)]
        stack = get_referents(*batch)
        del batch
        while stack:
            r = stack.pop()
            if is_tracked(r):
                continue
            i = id(r)
            page = pages.get(i >> _PAGE_SHIFT)
            if page is None:
                page = pages[i >> _PAGE_SHIFT] = bytearray(1 << (_PAGE_SHIFT - _SLOT_SHIFT - 3))
            slot = (i >> _SLOT_SHIFT) & ((1 << (_PAGE_SHIFT - _SLOT_SHIFT)) - 1)
            mask = 1 << (slot & 7)
            if page[slot >> 3] & mask:
                continue
            page[slot >> 3] |= mask
            t = type(r)
            entry = table.get(t)
            if entry is None:
                entry = table[t] = [0, 0]
            entry[0] += 1
            entry[1] += getsizeof(r, 0)
            seen += 1
            # an untracked tuple/dict holds only atoms; they are not visited otherwise
            if t is tuple or t is dict or t is frozenset:
                stack.extend(get_referents(r))
    del objects
    return table, seen


def rows_of(table, limit, order):
    """The summary as rows for the client, sorted by total size, plus totals."""
    rows = [{'type': type_name(t), 'count': c, 'size': s} for t, (c, s) in table.items()]
    rows.sort(key=lambda r: (r['size'], r['count']), reverse=(order != 'ascending'))
    total_count = sum(r['count'] for r in rows)
    total_size = sum(r['size'] for r in rows)
    return {'rows': rows[:limit], 'types': len(rows), 'total_count': total_count, 'total_size': total_size}


def diff_of(before, after, limit, order):
    """Per-type changes between two summaries (signed), biggest growth first (descending)."""
    rows = []
    for t in set(before) | set(after):
        c0, s0 = before.get(t, (0, 0))
        c1, s1 = after.get(t, (0, 0))
        if c0 != c1 or s0 != s1:
            rows.append({'type': type_name(t), 'count': c1, 'size': s1, 'count_delta': c1 - c0, 'size_delta': s1 - s0})
    rows.sort(key=lambda r: (r['size_delta'], r['count_delta']), reverse=(order != 'ascending'))
    return {
        'rows': rows[:limit],
        'changed_types': len(rows),
        'count_delta': sum(r['count_delta'] for r in rows),
        'size_delta': sum(r['size_delta'] for r in rows),
    }


def sleep_unless(seconds, should_stop):
    """Sleeps in short steps; False when stopped early."""
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return True
        if should_stop():
            return False
        time.sleep(min(left, 0.1))


# --- mem top -----------------------------------------------------------------------

def top_lines(interval, limit, should_stop, agent_dir):
    """Source lines with the most net allocation over the interval, by tracemalloc."""
    import tracemalloc
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start(1)
    try:
        ignore = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, agent_dir + '/*')]
        before = tracemalloc.take_snapshot().filter_traces(ignore)
        completed = sleep_unless(interval, should_stop)
        after = tracemalloc.take_snapshot().filter_traces(ignore)
    finally:
        if not was_tracing:
            tracemalloc.stop()
    stats = after.compare_to(before, 'lineno')
    rows = []
    for st in stats:
        if st.size_diff <= 0:
            continue
        frame = st.traceback[0]
        rows.append({
            'file': frame.filename, 'line': frame.lineno, 'code': _source_line(frame.filename, frame.lineno),
            'size_delta': st.size_diff, 'count_delta': st.count_diff, 'size': st.size, 'count': st.count,
        })
        if len(rows) >= limit:
            break
    return {
        'rows': rows, 'interval': interval, 'completed': completed,
        'already_tracing': was_tracing, 'size_delta': sum(s.size_diff for s in stats),
    }


def _source_line(filename, lineno):
    import linecache
    return linecache.getline(filename, lineno).strip()


# --- mem refs ----------------------------------------------------------------------

def _frame_roots(own_thread):
    """id(value) -> description for every local variable of every other thread's frames."""
    names = {t.ident: t.name for t in threading.enumerate()}
    roots = {}
    frames = sys._current_frames()
    for ident, frame in frames.items():
        if ident == own_thread:
            continue
        f = frame
        while f is not None:
            code = f.f_code
            if f.f_locals is f.f_globals:  # module-level code: its "locals" are module globals
                f = f.f_back
                continue
            for var, value in list(f.f_locals.items()):
                roots.setdefault(id(value), {
                    'value': value, 'kind': 'frame', 'thread': names.get(ident, str(ident)), 'function': code.co_name,
                    'file': code.co_filename, 'line': f.f_lineno, 'name': var,
                })
            f = f.f_back
    del frames
    return roots


def _module_of_dict(d):
    for name, module in list(sys.modules.items()):
        if module is not None and getattr(module, '__dict__', None) is d:
            return name
    return None


def _edge(parent, child):
    """How parent refers to child, e.g. "['key']", "[3]", ".attr"."""
    if isinstance(parent, dict):
        for k, v in parent.items():
            if v is child:
                return '[%s]' % _short_repr(k)
            if k is child:
                return ' key %s' % _short_repr(k)
    elif isinstance(parent, (list, tuple)):
        for i, v in enumerate(parent):
            if v is child:
                return '[%d]' % i
    elif isinstance(parent, (set, frozenset)):
        return ' member'
    d = getattr(parent, '__dict__', None)
    if isinstance(d, dict):
        for k, v in d.items():
            if v is child:
                return '.%s' % k
        if d is child:
            return '.__dict__'
    for slot in getattr(type(parent), '__slots__', ()) or ():
        if getattr(parent, slot, None) is child:
            return '.%s' % slot
    if type(parent).__name__ == 'cell':
        return '.cell_contents'
    return ' -> '


def _short_repr(v, width=60):
    try:
        r = repr(v)
    except Exception:
        r = '<%s>' % type(v).__name__
    return r if len(r) <= width else r[:width - 3] + '...'


def _describe(o):
    return {'type': type_name(type(o)), 'address': '0x%x' % id(o), 'repr': _short_repr(o)}


def referrer_chain(module_name, class_name, max_depth=16, max_visits=400, time_budget=10.0):
    """The chain from a root (module global or thread frame local) down to one instance."""
    try:
        cls = names.find_class(names.find_module(module_name), class_name)
    except names.NameNotFound as e:
        raise AgentError('NotFound', str(e))
    own_frame = sys._getframe()
    instance = None
    count = 0
    objects = gc.get_objects()
    for o in objects:
        if type(o) is cls:
            count += 1
            instance = o  # the last one: the youngest generation is listed first
    del objects
    if instance is None:
        raise AgentError('NoInstance', 'no live instance of %s.%s' % (module_name, class_name),
                         hint='`mem summary` lists the types that have instances')
    roots = _frame_roots(threading.get_ident())
    module_dicts = {id(m.__dict__): name for name, m in list(sys.modules.items()) if getattr(m, '__dict__', None) is not None}
    # breadth-first upwards; parent[id] = (referrer, child) links back down to the instance
    parent = {id(instance): None}
    keep = [instance]  # holds visited objects alive for the duration (ids stay valid)
    queue = [instance]
    ignore = {id(parent), id(keep), id(queue), id(own_frame), id(roots), id(module_dicts)}
    deadline = time.monotonic() + time_budget
    found = None
    visits = 0
    depth = {id(instance): 0}
    while queue and found is None and visits < max_visits and time.monotonic() < deadline:
        obj = queue.pop(0)
        visits += 1
        holder = roots.get(id(obj))
        if holder is not None and holder['value'] is obj:
            found = ('frame', obj)
            break
        if depth[id(obj)] >= max_depth:
            continue
        referrers = gc.get_referrers(obj)
        ignore.add(id(referrers))
        for r in referrers:
            if id(r) in ignore or id(r) in parent or type(r).__name__ == 'frame':
                continue
            parent[id(r)] = obj
            depth[id(r)] = depth[id(obj)] + 1
            keep.append(r)
            if id(r) in module_dicts:
                found = ('module', r)
                break
            queue.append(r)
        del referrers
    result = {'type': type_name(cls), 'instances': count, 'visited': visits}
    if found is None:
        result['chain'] = [_describe(instance)]
        result['root'] = None
        result['reason'] = 'no module global or thread frame found within %d referrer steps' % visits
        return result
    kind, top = found
    chain = []
    node = top
    while node is not None:
        chain.append(node)
        node = parent.get(id(node))
    # chain[0] is the root holder, chain[-1] the instance
    steps = []
    for i, o in enumerate(chain):
        step = _describe(o)
        if i + 1 < len(chain):
            step['edge'] = _edge(o, chain[i + 1])
        steps.append(step)
    if kind == 'module':
        mod = module_dicts[id(top)]
        name = steps[0].get('edge', '')
        root = {'kind': 'module', 'module': mod, 'name': name[2:-2] if name.startswith("['") else name}
        steps[0]['repr'] = 'module %s globals' % mod
    else:
        root = dict(roots[id(top)])
        del root['value']
    result['root'] = root
    result['chain'] = _collapse_instance_dicts(steps, chain)
    return result


def _collapse_instance_dicts(steps, chain):
    """Folds `obj -> obj.__dict__ -> ['attr'] -> value` into `obj .attr -> value` (3.8-3.10)."""
    out = []
    i = 0
    while i < len(steps):
        step = steps[i]
        if i + 2 < len(chain) and isinstance(chain[i + 1], dict) and getattr(chain[i], '__dict__', None) is chain[i + 1]:
            key = steps[i + 1].get('edge', '')
            step = dict(step, edge='.' + key[2:-2] if key.startswith("['") else key)
            out.append(step)
            i += 2
            continue
        out.append(step)
        i += 1
    return out


# --- the agent command -------------------------------------------------------------

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
