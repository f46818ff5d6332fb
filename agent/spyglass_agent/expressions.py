"""The user's --expr and -f expressions, compiled once when a command starts.

Each expression becomes a plain function of the names the command puts in scope (for
watch: ``target, return_obj, cost, args, kwargs``), so a call evaluates it at the price of
one Python call: nothing is exec'd per call, and nothing is written into the target
module's globals (the functions only *read* them, so module names such as constants can
be used in an expression).

Private attributes follow Python's own rule: an expression is compiled outside any class,
so the user writes the mangled name (``args[0]._A__val``), exactly as Python code outside
the class would.
"""

import ast

from . import hooks
from .errors import AgentError

# names in scope for watch --expr/-f and monitor (after the call)
AFTER_CALL_NAMES = ('target', 'return_obj', 'cost', 'args', 'kwargs')
# names in scope for trace -f (before the call)
BEFORE_CALL_NAMES = ('target', 'args', 'kwargs')


class ExpressionError(Exception):
    """A user expression that does not compile; the message names the expression."""


def _parse(source, option):
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError('%s: empty expression' % option)
    try:
        return ast.parse(source.strip(), '<%s>' % option, 'eval')
    except SyntaxError as e:
        where = ''
        if e.offset:
            where = ' at column %d' % e.offset
        raise ExpressionError('%s %r: %s%s' % (option, source, e.msg, where))


def _as_lambda(body, names, option, source):
    """Wraps an expression node in ``lambda <names>: <body>`` and compiles it."""
    arguments = ast.arguments(
        posonlyargs=[],
        args=[ast.arg(arg=n, annotation=None) for n in names],
        vararg=None,
        kwonlyargs=[],
        kw_defaults=[],
        kwarg=None,
        defaults=[],
    )
    tree = ast.Expression(body=ast.Lambda(args=arguments, body=body))
    ast.fix_missing_locations(tree)
    try:
        return compile(tree, '<%s>' % option, 'eval')
    except SyntaxError as e:  # e.g. `yield` or `await` used in an expression
        raise ExpressionError('%s %r: %s' % (option, source, e.msg))


class Expression(object):
    """One compiled expression; ``bind(globals)`` gives the callable to evaluate."""

    __slots__ = ('source', 'code')

    def __init__(self, source, code):
        self.source = source
        self.code = code

    def bind(self, module_globals):
        # evaluating the code object yields the function; it reads module_globals only
        return eval(self.code, module_globals)


def compile_expression(source, names, option):
    """One expression of the given names (a filter, or a single value)."""
    tree = _parse(source, option)
    return Expression(source.strip(), _as_lambda(tree.body, names, option, source))


def compile_items(source, names, option):
    """The items a watch shows, one EXPR/VALUE row each.

    ``args,kwargs`` (a tuple) and Arthas' ``{return_obj,args}`` (a set display) are split
    into their elements, so each is shown under its own name and one item that raises
    on a call does not hide the others. Anything else is one item.
    """
    text = source.strip() if isinstance(source, str) else source
    tree = _parse(text, option)
    body = tree.body
    parts = body.elts if isinstance(body, (ast.Tuple, ast.Set)) else [body]
    items = []
    for part in parts:
        label = ast.get_source_segment(text, part) or ast.dump(part)
        items.append(Expression(label, _as_lambda(part, names, option, text)))
    return items


def compile_option(source, names, namespace, option='-e'):
    """A one-shot option's expression (getglobal's and vmtool's -e) as a function of
    ``names`` reading ``namespace``; BadExpression when it does not compile."""
    try:
        return compile_expression(source, names, option).bind(namespace)
    except ExpressionError as e:
        raise AgentError('BadExpression', str(e))


def run_option(fn, source, *args):
    """Runs a compile_option function as the target's own code (observable by watch);
    ExpressionFailed when it raises."""
    try:
        with hooks.observed():
            return fn(*args)
    except Exception as e:
        raise AgentError('ExpressionFailed', '-e %r raised %s: %s' % (source, type(e).__name__, e))
