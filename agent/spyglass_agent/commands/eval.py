"""`eval`: evaluates one expression in a module's namespace and renders the result.

args: expr (str), module (default "__main__"), expand/verbose/raw (render options).
The expression only reads the namespace (an expression cannot bind names except with
``:=``, which is the user's explicit choice)."""

from .. import hooks, names, render
from ..errors import AgentError

NAME = 'eval'


def run(ctx):
    expr = ctx.arg('expr', str, required=True)
    module_name = ctx.arg('module', str, '__main__')
    module = names.find_module(module_name)
    try:
        code = compile(expr, '<spyglass eval>', 'eval', dont_inherit=True)
    except SyntaxError as e:
        raise AgentError('BadExpression', 'invalid expression %r: %s' % (expr, e.msg))
    try:
        with hooks.observed():
            value = eval(code, vars(module))
    except Exception as e:
        raise AgentError('ExpressionFailed', '%s: %s' % (type(e).__name__, e))
    return render.render(value, ctx.arg('expand', int, 1), ctx.arg('verbose', bool, False), ctx.arg('raw', bool, False))
