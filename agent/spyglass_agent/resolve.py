"""Turns the reference grammar's ``module [class] method`` into the function object to
hook. Only modules the target has already imported are searched: spyglass never imports
anything into the target. Methods are looked up along the class's MRO without triggering
descriptors; classmethods, staticmethods and property getters resolve to their function.
"""
import sys
import types

from .errors import AgentError


def module(name):
    mod = sys.modules.get(name)
    if mod is None:
        raise AgentError('ModuleNotFound', 'module %s is not imported in the target' % name,
                         hint='spyglass never imports modules into the target; check the name with `module`')
    return mod


def cls(mod, dotted):
    obj = mod
    for part in dotted.split('.'):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AgentError('ClassNotFound', 'no class %s in module %s' % (dotted, mod.__name__))
    if not isinstance(obj, type):
        raise AgentError('ClassNotFound', '%s.%s is a %s, not a class' % (mod.__name__, dotted, type(obj).__name__))
    return obj


def function(module_name, class_name, method_name):
    """(function object, readable target name)."""
    mod = module(module_name)
    if class_name:
        klass = cls(mod, class_name)
        for base in klass.__mro__:
            if method_name in base.__dict__:
                raw = base.__dict__[method_name]
                where = '%s.%s.%s' % (module_name, base.__qualname__, method_name)
                break
        else:
            raise AgentError('MethodNotFound', 'class %s.%s has no method %s' % (module_name, class_name, method_name))
    else:
        try:
            raw = vars(mod)[method_name]
        except KeyError:
            raise AgentError('MethodNotFound', 'module %s has no function %s' % (module_name, method_name),
                             hint='a method needs its class: MODULE CLASS METHOD')
        where = '%s.%s' % (module_name, method_name)
    return _unwrap(raw, where), where


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
        raise AgentError('NotHookable', '%s is a class; name a method of it: MODULE %s METHOD' % (
            where, where.rpartition('.')[2]))
    raise AgentError('NotHookable', '%s is a %s, not a Python function (built-in and C functions cannot be hooked)' % (
        where, type(raw).__name__))
