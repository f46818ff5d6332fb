"""The one way a command finds what the user named: a loaded module, a class in it, a
field of either, or the function to hook for the reference grammar's
``module [class] method``. Only modules the target has already imported are searched:
spyglass never imports anything into the target. A name that is not there raises
AgentError (ModuleNotFound, ClassNotFound, MethodNotFound, AttributeNotFound) whose
message offers the nearest existing names ("did you mean: Order?"), so the same typo
reads the same in every command.

Methods are looked up along the class's MRO without triggering descriptors;
classmethods, staticmethods and property getters resolve to their function.
"""

import difflib
import sys
import types

from .errors import AgentError

# the agent's own package is no business of the user's: never offered as a suggestion
_AGENT_PACKAGE = __name__.split('.', 1)[0]
_NO_IMPORT_HINT = 'spyglass never imports modules into the target; `module FILE` finds the name a file was loaded under'


def did_you_mean(name, candidates, limit=5):
    """Close spellings first, then names that contain the word (case-insensitive)."""
    candidates = [c for c in candidates if isinstance(c, str)]
    out = difflib.get_close_matches(name, candidates, n=limit, cutoff=0.6)
    low = name.lower()
    for c in sorted(candidates):
        if len(out) >= limit:
            break
        if c not in out and low in c.lower():
            out.append(c)
    return out


def _suggest(near):
    return ('; did you mean: %s?' % ', '.join(near)) if near else ''


def find_module(name):
    module = sys.modules.get(name)
    if module is not None:
        return module
    loaded = [m for m in list(sys.modules) if m != _AGENT_PACKAGE and not m.startswith(_AGENT_PACKAGE + '.')]
    # `views` for `app.views`: the last component is what a user often remembers
    tails = [m for m in loaded if m.endswith('.' + name)]
    near = tails[:5] or did_you_mean(name, loaded)
    raise AgentError(
        'ModuleNotFound', 'module %s is not imported in the target%s' % (name, _suggest(near)), hint=_NO_IMPORT_HINT
    )


def find_class(module, dotted):
    """A class of the module; `Outer.Inner` walks nested classes."""
    owner = module
    where = module.__name__
    for part in dotted.split('.'):
        value = _lookup(owner, part)
        if value is _MISSING:
            classes = [k for k, v in _names_of(owner).items() if isinstance(v, type)]
            raise AgentError(
                'ClassNotFound', '%s has no class %r%s' % (where, part, _suggest(did_you_mean(part, classes)))
            )
        owner = value
        where = '%s.%s' % (where, part)
    if not isinstance(owner, type):
        raise AgentError('ClassNotFound', '%s is a %s, not a class' % (where, type(owner).__name__))
    return owner


def find_field(owner, field, where):
    value = _lookup(owner, field)
    if value is _MISSING:
        raise AgentError(
            'AttributeNotFound',
            '%s has no attribute %r%s' % (where, field, _suggest(did_you_mean(field, list(_names_of(owner))))),
        )
    return value


def find_function(module_name, class_name, method_name):
    """(function object to hook, readable target name)."""
    module = find_module(module_name)
    if class_name:
        klass = find_class(module, class_name)
        for base in klass.__mro__:
            if method_name in base.__dict__:
                raw = base.__dict__[method_name]
                where = '%s.%s.%s' % (module_name, base.__qualname__, method_name)
                break
        else:
            methods = [n for base in klass.__mro__ for n, v in vars(base).items() if _is_function_like(v)]
            raise AgentError(
                'MethodNotFound',
                'class %s.%s has no method %s%s'
                % (module_name, class_name, method_name, _suggest(did_you_mean(method_name, methods))),
            )
    else:
        try:
            raw = vars(module)[method_name]
        except KeyError:
            functions = [n for n, v in list(vars(module).items()) if _is_function_like(v)]
            raise AgentError(
                'MethodNotFound',
                'module %s has no function %s%s'
                % (module_name, method_name, _suggest(did_you_mean(method_name, functions))),
                hint='a method needs its class: MODULE CLASS METHOD',
            )
        where = '%s.%s' % (module_name, method_name)
    return _unwrap(raw, where), where


def _is_function_like(v):
    return isinstance(v, (types.FunctionType, classmethod, staticmethod, property))


def _unwrap(raw, where):
    if isinstance(raw, (classmethod, staticmethod)):
        raw = raw.__func__
    elif isinstance(raw, property):
        raw = raw.fget
    elif isinstance(raw, types.MethodType):
        raw = raw.__func__
    if isinstance(raw, types.FunctionType):
        return raw
    if isinstance(raw, type):
        raise AgentError(
            'NotHookable', '%s is a class; name a method of it: MODULE %s METHOD' % (where, where.rpartition('.')[2])
        )
    raise AgentError(
        'NotHookable',
        '%s is a %s, not a Python function (only a built-in function of a module can be watched, through its attribute)'
        % (where, type(raw).__name__),
    )


_MISSING = object()


def _lookup(owner, name):
    d = getattr(owner, '__dict__', None)
    if isinstance(owner, type(sys)) and isinstance(d, dict) and name in d:
        return d[name]
    try:
        return getattr(owner, name)  # class attributes are inherited; modules may have __getattr__
    except Exception:
        return _MISSING


def _names_of(owner):
    names = {}
    try:
        for n in dir(owner):
            names[n] = getattr(owner, n, None)
    except Exception:
        pass
    return names
