"""`getglobal module [class] field [-e EXPR]`: a module global or a class attribute,
rendered by the shared renderer. `-e` is an expression of `target` (the value), compiled
once and evaluated with the module's globals readable."""

from .. import names, render
from ..expressions import compile_option, run_option

NAME = 'getglobal'


def run(ctx):
    module_name = ctx.arg('module', str, required=True)
    cls_name = ctx.arg('cls', str)
    field = ctx.arg('field', str, required=True)
    expr = ctx.arg('expr', str)
    module = names.find_module(module_name)
    owner = names.find_class(module, cls_name) if cls_name else module
    where = module_name + ('.' + cls_name if cls_name else '')
    value = names.find_field(owner, field, where)
    out = {'module': module_name, 'cls': cls_name, 'field': field}
    if expr is not None:
        fn = compile_option(expr, ('target',), module.__dict__)
        value = run_option(fn, expr, value)
        out['expr'] = expr
    out['value'] = render.render(
        value, ctx.arg('expand', int, 1), bool(ctx.arg('verbose', bool, False)), bool(ctx.arg('raw', bool, False))
    )
    return out
