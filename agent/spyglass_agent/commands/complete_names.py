"""`complete_names`: the names the shell's Tab completion offers for `module [class] name`
words. Without `module`: loaded module names starting with `prefix`, one dotted level
at a time (`asyncio` first, `asyncio.events` once `asyncio.` is typed). With `module`
(and `cls`): the attributes of that module (class) starting with `prefix`, each with its
kind, so the shell can offer only classes, or only callables, where the grammar wants them.
Read-only: nothing in the target is called except attribute lookups."""

import sys

from .. import names
from ..errors import AgentError

NAME = 'complete_names'

# a module with thousands of names still answers quickly; the terminal shows this many at most
LIMIT = 500
# the agent's own package is no business of the user's
AGENT_PACKAGE = __name__.split('.', 1)[0]


def run(ctx):
    prefix = ctx.arg('prefix', str, '')
    module_name = ctx.arg('module', str)
    if module_name is None:
        return {'names': [{'name': n, 'kind': 'module'} for n in _modules(prefix)]}
    try:
        owner = names.find_module(module_name)
        cls = ctx.arg('cls', str)
        if cls:
            owner = names.find_class(owner, cls)
    except AgentError:
        # nothing to offer for a misspelt module or class; completion reports no error
        return {'names': []}
    found = []
    for name, value in sorted(_attributes(owner).items()):
        if name.startswith(prefix) and (prefix.startswith('_') or not name.startswith('__')):
            found.append({'name': name, 'kind': kind_of(value)})
            if len(found) >= LIMIT:
                break
    return {'names': found}


def _modules(prefix):
    depth = prefix.count('.')
    out = sorted(
        m
        for m in list(sys.modules)
        if m.startswith(prefix) and m.count('.') == depth and m.split('.', 1)[0] != AGENT_PACKAGE
    )
    return out[:LIMIT]


def _attributes(owner):
    """A module's own globals (not dir(), which a module __getattr__/__dir__ may inflate);
    a class's attributes, inherited ones included, as the hooks resolve them."""
    if isinstance(owner, type(sys)):
        return dict(vars(owner))
    out = {}
    for name in dir(owner):
        try:
            out[name] = getattr(owner, name)
        except Exception:
            continue
    return out


def kind_of(value):
    if isinstance(value, type):
        return 'class'
    if isinstance(value, type(sys)):
        return 'module'
    if callable(value):
        return 'function'
    return 'value'
