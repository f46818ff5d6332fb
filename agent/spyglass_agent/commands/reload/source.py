"""Finding the new definition of one function in its source file as it is now on disk.

The whole file is compiled (nothing is executed) and the function's code object is taken
from the module's code by the function's qualified name (``Class.method``: the class
body's code, then the method's), so the new code is exactly what importing the file
would make: class-private names mangled, ``super()``'s ``__class__`` cell, line numbers
and ``from __future__`` flags of that file. The same walk over the file's syntax tree
gives the definition's lines (shown by ``reload -v``) and its default values, which are
evaluated again, as a new ``def`` would. docs/reload.md says what this relies on.
"""

import ast
import tokenize
import types

from ...errors import AgentError


class NewDefinition(object):
    """The function as the file defines it now: code, defaults, and where it is."""

    def __init__(self, code, node, lines, filename):
        self.code = code
        self.node = node
        self.filename = filename
        self.first_line = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        self.last_line = getattr(node, 'end_lineno', node.lineno)
        self.source = ''.join(lines[self.first_line - 1 : self.last_line])


def read_definition(filename, qualname):
    """The definition of ``qualname`` (``f`` or ``Class.method``) in ``filename`` now."""
    try:
        with tokenize.open(filename) as f:
            source = f.read()
    except (OSError, SyntaxError) as e:
        raise AgentError('NotReloadable', 'cannot read %s: %s' % (filename, e))
    try:
        module_code = compile(source, filename, 'exec', dont_inherit=True)
        tree = ast.parse(source, filename)
    except SyntaxError as e:
        where = '%s:%s' % (filename, e.lineno)
        text = (e.text or '').rstrip('\n')
        raise AgentError(
            'SourceSyntaxError',
            'the new source does not compile: %s at %s%s'
            % (e.msg, where, ('\n    ' + text.strip()) if text.strip() else ''),
            hint='nothing was reloaded; fix the file and reload again',
        )
    except ValueError as e:  # e.g. a null byte
        raise AgentError('SourceSyntaxError', 'the new source does not compile: %s' % e)
    parts = qualname.split('.')
    code, node = module_code, tree
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        kinds = (ast.FunctionDef, ast.AsyncFunctionDef) if last else (ast.ClassDef,)
        # the last definition of that name wins, as it does when the file is executed
        nodes = [n for n in node.body if isinstance(n, kinds) and n.name == part]
        codes = [c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == part]
        if not nodes or not codes:
            raise AgentError(
                'NotReloadable',
                '%s no longer defines %s' % (filename, '.'.join(parts[: i + 1])),
                hint='nothing was reloaded; a function is reloaded from the file it was defined in',
            )
        node, code = nodes[-1], codes[-1]
    return NewDefinition(code, node, source.splitlines(True), filename)


def evaluate_defaults(definition, globals_, class_namespace=None):
    """(__defaults__, __kwdefaults__) of the new def, evaluated now in the function's module
    (and, for a method, its class's namespace, as the class body would see them)."""
    args = definition.node.args

    def value(expr):
        code = compile(ast.Expression(body=expr), definition.filename, 'eval', dont_inherit=True)
        try:
            return eval(code, globals_, dict(class_namespace or {}))
        except Exception as e:
            raise AgentError(
                'NotReloadable',
                'a default value of the new definition raised %s: %s' % (type(e).__name__, e),
                hint='nothing was reloaded',
            )

    defaults = tuple(value(d) for d in args.defaults) or None
    kwdefaults = dict((a.arg, value(d)) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None) or None
    return defaults, kwdefaults


def same_code(a, b):
    """Whether two code objects would behave the same (their bytecode, names, constants and
    lines): reloading a file whose function did not change is a no-op."""
    if not isinstance(a, types.CodeType) or not isinstance(b, types.CodeType):
        return type(a) is type(b) and a == b
    for attr in (
        'co_code',
        'co_names',
        'co_varnames',
        'co_freevars',
        'co_cellvars',
        'co_flags',
        'co_argcount',
        'co_kwonlyargcount',
        'co_firstlineno',
    ):
        if getattr(a, attr) != getattr(b, attr):
            return False
    if getattr(a, 'co_posonlyargcount', 0) != getattr(b, 'co_posonlyargcount', 0):
        return False
    return len(a.co_consts) == len(b.co_consts) and all(same_code(x, y) for x, y in zip(a.co_consts, b.co_consts))
