"""Finding a loaded module, a class in it and a name on either, with "did you mean"
answers built from what does exist, for getglobal and vmtool."""
import difflib
import sys


class NameNotFound(Exception):
    """Unknown module, class or field; the message names what exists nearby."""


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


def _hint(name, candidates):
    near = did_you_mean(name, candidates)
    return ('; did you mean: %s?' % ', '.join(near)) if near else ''


def find_module(name):
    module = sys.modules.get(name)
    if module is not None:
        return module
    loaded = list(sys.modules)
    # `views` for `app.views`: the last component is what a user often remembers
    tails = [m for m in loaded if m.endswith('.' + name)]
    near = tails[:5] or did_you_mean(name, loaded)
    raise NameNotFound('module %r is not loaded in the target%s' % (
        name, ('; did you mean: %s?' % ', '.join(near)) if near else ' (`module FILE` finds the name a file was loaded under)'))


def find_class(module, dotted):
    """A class of the module; `Outer.Inner` walks nested classes."""
    owner = module
    where = module.__name__
    for part in dotted.split('.'):
        value = _lookup(owner, part)
        if value is _MISSING:
            classes = [k for k, v in _names_of(owner).items() if isinstance(v, type)]
            raise NameNotFound('%s has no class %r%s' % (where, part, _hint(part, classes)))
        owner = value
        where = '%s.%s' % (where, part)
    if not isinstance(owner, type):
        raise NameNotFound('%s is a %s, not a class' % (where, type(owner).__name__))
    return owner


def find_field(owner, field, where):
    value = _lookup(owner, field)
    if value is _MISSING:
        raise NameNotFound('%s has no attribute %r%s' % (where, field, _hint(field, list(_names_of(owner)))))
    return value


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
