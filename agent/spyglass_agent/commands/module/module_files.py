"""`module FILE`: under which module name(s) a file is loaded in the target.

Paths are compared after resolving symlinks on both sides. A relative path is tried
against the client's directory (the client sends it already made absolute) and the
target's. A module's own relative `__file__` (`__main__` on 3.8 when started as
`python dir/x.py`) is resolved against the target's directory and `sys.path[0]`.
Compiled files (`.pyc`) stand for their source, a package directory for its __init__.py.
"""

import os
import sys

try:
    from importlib.util import source_from_cache
except ImportError:  # pragma: no cover (3.8+ all have it)
    source_from_cache = None


def _canonical(path):
    path = os.path.realpath(path)
    if path.endswith('.pyc') and source_from_cache is not None:
        try:
            return os.path.realpath(source_from_cache(path))
        except ValueError:  # a sourceless .pyc outside __pycache__
            return path[:-1]
    return path


def _module_files(module):
    """The file paths a module may have been loaded from (as the module states them)."""
    out = []
    for attr in ('__file__',):
        f = getattr(module, attr, None)
        if isinstance(f, str):
            out.append(f)
    spec = getattr(module, '__spec__', None)
    origin = getattr(spec, 'origin', None)
    if isinstance(origin, str) and getattr(spec, 'has_location', False):
        out.append(origin)
    return out


def _resolved(path):
    if os.path.isabs(path):
        return [_canonical(path)]
    bases = [os.getcwd()]
    if sys.path and sys.path[0]:
        bases.append(sys.path[0])
    return [_canonical(os.path.join(b, path)) for b in bases] + [
        _canonical(os.path.join(b, os.path.basename(path))) for b in bases[1:]
    ]


def find(typed, client_abs=None):
    """{'wanted': [paths tried], 'matches': [{'module', 'file'}], 'exists': bool, 'same_basename': [...]}"""
    wanted = []
    for p in ([client_abs] if client_abs else []) + _resolved(os.path.expanduser(typed)):
        if p not in wanted:
            wanted.append(p)
    # a package directory stands for its __init__.py
    wanted += [os.path.join(p, '__init__.py') for p in wanted if os.path.isdir(p)]
    wanted_set = set(wanted)
    basename = os.path.basename(wanted[0]) if wanted else ''
    matches = []
    same_basename = []
    for name, module in list(sys.modules.items()):
        try:
            files = _module_files(module)
        except Exception:  # a module object whose attributes raise (lazy loaders...)
            continue
        seen = set()
        for f in files:
            try:
                candidates = _resolved(f)
            except (OSError, ValueError):
                continue
            for c in candidates:
                if c in seen:
                    continue
                seen.add(c)
                if c in wanted_set:
                    matches.append({'module': name, 'file': c})
                    break
                if os.path.basename(c) == basename and basename != '__init__.py':
                    same_basename.append({'module': name, 'file': c})
            else:
                continue
            break
    matches.sort(key=lambda m: (m['module'] != '__main__', m['module']))
    return {
        'wanted': wanted,
        'matches': matches,
        'exists': any(os.path.exists(p) for p in wanted),
        'same_basename': [m for m in same_basename if m['module'] not in set(x['module'] for x in matches)][:10],
    }
