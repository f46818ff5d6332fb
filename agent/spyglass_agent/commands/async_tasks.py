"""`stack -a`: every asyncio task of every event loop of the process, with its await chain
and which task awaits which. Read on the agent's request thread: nothing is scheduled on
a loop, no task is resumed, awaited or cancelled, and nothing is imported (a process that
never imported asyncio has no tasks, and is told so).

Where tasks are found (docs/async-tasks.md): asyncio's own registries of live tasks
(``asyncio.tasks._all_tasks`` on 3.8-3.11, ``_scheduled_tasks`` and ``_eager_tasks`` on
3.12+), then ``asyncio.all_tasks(loop)`` for each loop those tasks belong to (on 3.14 the
native tasks live in per-thread lists only it reaches). Loops are the tasks' own
(``task.get_loop()``); only when no task names one are the garbage collector's objects
searched for event loops. A loop's thread is the one ``run_forever`` recorded
(``loop._thread_id``); a loop that is not running shows its tasks too.

The answer is streamed: a ``loop`` event per loop, then its tasks in ``tasks`` events of
at most CHUNK tasks, and the counts with ``end``. Each message is encoded on its own, so
the target's threads get the GIL between them (one JSON document of 10,000 tasks is
several MB, encoded in one C call that would hold the GIL for the whole of it).

A task's state: done (with its result's type), failed (its exception; read from the
task, never through ``exception()``, which would mark it retrieved), cancelled, running
(its coroutine is executing now), waiting (it awaits a future) or pending (scheduled to
run). Its await chain follows ``cr_await`` / ``gi_yieldfrom`` from the task's coroutine to
the innermost awaitable; a task awaits another when that awaitable is the other task, a
``gather`` of it, or a ``TaskGroup`` holding it (or, on 3.14, the task says so itself).
"""

import gc
import linecache
import sys
import threading

from ..errors import AgentError

NAME = 'async_tasks'

REGISTRIES = ('_all_tasks', '_scheduled_tasks', '_eager_tasks')
CHAIN_MAX = 200  # awaits followed per task: a chain longer than that is cut, and says so
CHUNK = 200  # tasks per event
SEND_WAIT = 10.0  # seconds to wait for room in the client's queue before giving up


def run(ctx):
    asyncio = sys.modules.get('asyncio')
    tasks_module = sys.modules.get('asyncio.tasks')
    if asyncio is None or tasks_module is None:
        return {'asyncio': False}
    tasks = _registered(tasks_module)
    loops = _loops_of(tasks)
    searched_gc = False
    if not loops:
        loops = _loops_from_gc(asyncio)
        searched_gc = True
    for loop in loops:
        try:
            tasks.extend(asyncio.all_tasks(loop))
        except Exception:
            pass  # a loop of a foreign implementation
    tasks = _unique(tasks)
    for loop in _loops_of(tasks):
        if loop not in loops:
            loops.append(loop)
    described = dict((id(t), _task(t, asyncio)) for t in tasks)
    _link(described)
    threads = dict((ident, t) for ident, t in list(threading._active.items()))
    out = []
    for loop in loops:
        mine = sorted(
            (described[id(t)] for t in tasks if _loop_of(t) is loop), key=lambda d: (d['name'] or '', d['id'])
        )
        out.append((_loop(loop, threads), mine))
    # running loops first, the main thread's first of them
    main = threading.main_thread().ident
    out.sort(key=lambda item: (not item[0]['running'], (item[0]['thread'] or {}).get('ident') != main, item[0]['id']))
    for info, mine in out:
        _send(ctx, 'loop', info)
        for i in range(0, len(mine), CHUNK):
            _send(ctx, 'tasks', {'loop': info['id'], 'tasks': mine[i : i + CHUNK]})
    return {
        'asyncio': True,
        'loops': len(out),
        'tasks': len(described),
        'searched_gc': searched_gc,
        'how': "read on an agent thread from asyncio's task registries and all_tasks() of each loop; "
        'nothing in the process was changed',
    }


def _send(ctx, event, data):
    """Streams one part of the answer; a full queue (a slow client) is waited for, as
    dropping a part would leave the answer incomplete."""
    waited = 0.0
    while not ctx.emit(event, data):
        ctx.dropped -= 1  # not dropped: sent again below
        if waited >= SEND_WAIT or ctx.wait(0.01):
            raise AgentError('ClientTooSlow', 'the client did not read the tasks within %gs' % SEND_WAIT)
        waited += 0.01


def _registered(tasks_module):
    found = []
    for name in REGISTRIES:
        registry = getattr(tasks_module, name, None)
        if registry is None:
            continue
        for _ in range(100):  # another thread may add a task while we copy the set
            try:
                found.extend(list(registry))
                break
            except RuntimeError:
                continue
    return found


def _unique(items):
    seen, out = set(), []
    for x in items:
        if id(x) not in seen:
            seen.add(id(x))
            out.append(x)
    return out


def _loop_of(task):
    try:
        return task.get_loop()
    except Exception:
        return getattr(task, '_loop', None)


def _loops_of(tasks):
    return _unique([loop for loop in (_loop_of(t) for t in tasks) if loop is not None])


def _loops_from_gc(asyncio):
    base = asyncio.AbstractEventLoop
    return [o for o in gc.get_objects() if isinstance(o, base)]


def _loop(loop, threads):
    ident = getattr(loop, '_thread_id', None)
    thread = threads.get(ident) if ident is not None else None
    try:
        running, closed = loop.is_running(), loop.is_closed()
    except Exception:
        running, closed = ident is not None, False
    return {
        'id': '0x%x' % id(loop),
        'type': type(loop).__name__,
        'running': bool(running),
        'closed': bool(closed),
        'thread': None
        if ident is None
        else {
            'ident': ident,
            'name': thread.name if thread is not None else None,
            'native_id': getattr(thread, 'native_id', None),
        },
    }


def _task(task, asyncio):
    coro = None
    try:
        coro = task.get_coro()
    except Exception:
        pass
    chain, awaited, group, tail = _chain(coro, asyncio)
    if awaited is None:
        # a chain that ends in a future's own iterator (the C _asyncio.FutureIter, which does
        # not name its future): the task's _fut_waiter is that future
        awaited = getattr(task, '_fut_waiter', None)
    info = {
        'id': '0x%x' % id(task),
        'name': _name(task),
        'state': _state(task, coro),
        'coroutine': getattr(coro, '__qualname__', type(coro).__name__) if coro is not None else None,
        'chain': chain,
        '_awaits': [],
    }
    if awaited is not None and awaited is not task:
        info['awaiting'] = _future_text(awaited)
        info['_awaits'].extend(_tasks_in(awaited, asyncio))
    elif tail is not None:
        info['awaiting'] = tail
    if group is not None:
        info['_awaits'].extend(t for t in list(getattr(group, '_tasks', ())) if t is not task)
    # 3.14: a task knows the futures that await it
    info['_awaited_by'] = list(getattr(task, '_awaited_by', None) or ())
    if info['state'] == 'failed':
        exc = getattr(task, '_exception', None)
        info['exception'] = '%s: %s' % (type(exc).__name__, _safe_str(exc))
    elif info['state'] == 'done':
        info['result_type'] = type(getattr(task, '_result', None)).__name__
    return info


def _name(task):
    try:
        return task.get_name()
    except Exception:
        return None


def _state(task, coro):
    state = getattr(task, '_state', None)
    if state == 'CANCELLED':
        return 'cancelled'
    if state == 'FINISHED':
        return 'failed' if getattr(task, '_exception', None) is not None else 'done'
    if coro is not None and getattr(coro, 'cr_running', False):
        return 'running'
    if getattr(task, '_fut_waiter', None) is not None:
        return 'waiting'
    return 'pending'


def _chain(coro, asyncio):
    """(frames outermost first, the future at the end or None, a TaskGroup being exited or
    None, the type of another awaitable at the end or None)."""
    frames, group, obj = [], None, coro
    for _ in range(CHAIN_MAX):
        if obj is None:
            return frames, None, group, None
        if isinstance(obj, asyncio.Future):
            return frames, obj, group, None
        frame = getattr(obj, 'cr_frame', None) or getattr(obj, 'gi_frame', None) or getattr(obj, 'ag_frame', None)
        if frame is None:
            # a finished coroutine, or an awaitable without frames (a C iterator)
            ended = hasattr(obj, 'cr_await') or hasattr(obj, 'gi_yieldfrom')
            return frames, None, group, None if ended else type(obj).__name__
        frames.append(_frame(frame))
        if group is None:
            group = _task_group(frame, asyncio)
        nxt = getattr(obj, 'cr_await', None)
        if nxt is None:
            nxt = getattr(obj, 'gi_yieldfrom', None)
        if nxt is None:
            nxt = getattr(obj, 'ag_await', None)
        obj = nxt
    frames.append({'function': '... (await chain cut at %d)' % CHAIN_MAX, 'file': None, 'line': None, 'code': None})
    return frames, None, group, None


def _frame(frame):
    code = frame.f_code
    line = frame.f_lineno
    return {
        'function': getattr(code, 'co_qualname', code.co_name),
        'file': code.co_filename,
        'line': line,
        'code': linecache.getline(code.co_filename, line).strip() or None,
    }


def _task_group(frame, asyncio):
    """The TaskGroup whose `async with` block this frame is leaving (it awaits the group's tasks)."""
    group_type = getattr(asyncio, 'TaskGroup', None)
    if group_type is None or frame.f_code.co_name not in ('__aexit__', '_aexit'):
        return None
    try:
        candidate = frame.f_locals.get('self')
    except Exception:
        return None
    return candidate if isinstance(candidate, group_type) else None


def _tasks_in(future, asyncio):
    """The tasks a future stands for: itself, or the children of a gather."""
    if isinstance(future, asyncio.Task):
        return [future]
    children = getattr(future, '_children', None)
    if isinstance(children, (list, tuple)):
        return [c for c in children if isinstance(c, asyncio.Task)]
    return []


def _future_text(future):
    kind = type(future).__name__
    state = getattr(future, '_state', '?')
    if kind == 'Task' or hasattr(future, 'get_coro'):
        try:
            return 'task %r (%s)' % (future.get_name(), str(state).lower())
        except Exception:
            pass
    return '%s (%s)' % (kind, str(state).lower())


def _link(described):
    """awaits / awaited_by between the described tasks, by id."""
    for info in described.values():
        info['awaited_by'] = []
    for info in described.values():
        info['awaits'] = _unique_ids('0x%x' % id(t) for t in info.pop('_awaits') if id(t) in described)
    for info in described.values():
        for waiter in info.pop('_awaited_by'):
            for t in _tasks_awaiting(waiter, described):
                if info['id'] not in t['awaits']:
                    t['awaits'].append(info['id'])
    by_id = dict((info['id'], info) for info in described.values())
    for info in described.values():
        for child in info['awaits']:
            by_id[child]['awaited_by'].append(info['id'])


def _tasks_awaiting(waiter, described):
    found = described.get(id(waiter))
    return [found] if found is not None else []


def _unique_ids(ids):
    out = []
    for i in ids:
        if i not in out:
            out.append(i)
    return out


def _safe_str(exc):
    try:
        text = str(exc)
    except Exception as e:
        return '<str() raised %s>' % type(e).__name__
    return text if len(text) <= 300 else text[:300] + '...'
