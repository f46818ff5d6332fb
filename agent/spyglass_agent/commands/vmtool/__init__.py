"""`vmtool -a getInstances -c module class [-e EXPR] [-n LIMIT]` and `vmtool -a forceGc`."""

from ... import names, render
from . import heap
from ...errors import bad_args
from ...expressions import compile_option, run_option

NAME = 'vmtool'


def run(ctx):
    action = ctx.arg('action', str, required=True)
    if action == 'forceGc':
        return heap.force_gc()
    if action == 'getInstances':
        return _instances(ctx)
    raise bad_args('vmtool: unknown action %r' % action, hint='actions: getInstances, forceGc')


def _instances(ctx):
    module_name = ctx.arg('module', str, required=True)
    cls_name = ctx.arg('cls', str, required=True)
    limit = ctx.arg('limit', int, 10)
    expr = ctx.arg('expr', str)
    options = (ctx.arg('expand', int, 1), bool(ctx.arg('verbose', bool, False)), bool(ctx.arg('raw', bool, False)))
    module = names.find_module(module_name)
    cls = names.find_class(module, cls_name)
    fn = None
    if expr is not None:
        fn = compile_option(expr, ('instances',), module.__dict__)
    found = heap.instances_of(cls)
    try:
        out = {
            'module': module_name,
            'cls': cls_name,
            'type': _qualified(cls),
            'total': len(found),
            'subclass_instances': sum(1 for o in found if type(o) is not cls),
        }
        if fn is not None:
            value = run_option(fn, expr, found)
            out['expr'] = expr
            out['value'] = render.render(value, *options)
            return out
        shown = found if limit is None or limit < 0 else found[:limit]
        instances = []
        for o in shown:
            item = {'value': render.render(o, *options)}
            if type(o) is not cls:
                item['subclass'] = _qualified(type(o))
            instances.append(item)
        out['instances'] = instances
        return out
    finally:
        del found


def _qualified(t):
    return '%s.%s' % (t.__module__, t.__qualname__)
