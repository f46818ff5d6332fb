"""`vmtool -a getInstances -c module class [-e EXPR] [-n LIMIT]` and `vmtool -a forceGc`."""
from ... import hooks, names, render
from . import heap
from ...errors import AgentError, bad_args
from ...expressions import ExpressionError, compile_expression

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
    try:
        module = names.find_module(module_name)
        cls = names.find_class(module, cls_name)
    except names.NameNotFound as e:
        raise AgentError('NotFound', str(e))
    fn = None
    if expr is not None:
        try:
            fn = compile_expression(expr, ('instances',), '-e').bind(module.__dict__)
        except ExpressionError as e:
            raise AgentError('BadExpression', str(e))
    found = heap.instances_of(cls)
    try:
        out = {'module': module_name, 'cls': cls_name, 'type': _qualified(cls),
               'total': len(found), 'subclass_instances': sum(1 for o in found if type(o) is not cls)}
        if fn is not None:
            try:
                with hooks.observed():
                    value = fn(found)
            except Exception as e:
                raise AgentError('ExpressionFailed', '-e %r raised %s: %s' % (expr, type(e).__name__, e))
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
