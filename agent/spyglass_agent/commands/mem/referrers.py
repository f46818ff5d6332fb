"""mem refs: from one live instance, referrers upwards until a module global or a local
variable of a thread's frame, so the user sees what keeps it alive."""

import gc
import sys
import threading
import time

from ... import names, render
from ...errors import AgentError
from ...render import qualified_name


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
                roots.setdefault(
                    id(value),
                    {
                        'value': value,
                        'kind': 'frame',
                        'thread': names.get(ident, str(ident)),
                        'function': code.co_name,
                        'file': code.co_filename,
                        'line': f.f_lineno,
                        'name': var,
                    },
                )
            f = f.f_back
    del frames
    return roots


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
    # through the renderer: a module's globals dict on the chain is summarized, not repr()'d
    r = render.text(v, width + 1)
    return r if len(r) <= width else r[: width - 3] + '...'


def _describe(o):
    return {'type': qualified_name(type(o)), 'address': '0x%x' % id(o), 'repr': _short_repr(o)}


def referrer_chain(module_name, class_name, max_depth=16, max_visits=400, time_budget=10.0):
    """The chain from a root (module global or thread frame local) down to one instance."""
    cls = names.find_class(names.find_module(module_name), class_name)
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
        raise AgentError(
            'NoInstance',
            'no live instance of %s.%s' % (module_name, class_name),
            hint='`mem summary` lists the types that have instances',
        )
    roots = _frame_roots(threading.get_ident())
    module_dicts = {
        id(m.__dict__): name for name, m in list(sys.modules.items()) if getattr(m, '__dict__', None) is not None
    }
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
    result = {'type': qualified_name(cls), 'instances': count, 'visited': visits}
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
        if (
            i + 2 < len(chain)
            and isinstance(chain[i + 1], dict)
            and getattr(chain[i], '__dict__', None) is chain[i + 1]
        ):
            key = steps[i + 1].get('edge', '')
            step = dict(step, edge='.' + key[2:-2] if key.startswith("['") else key)
            out.append(step)
            i += 2
            continue
        out.append(step)
        i += 1
    return out
