"""A module observe_app.py imports (watch/trace of a function outside __main__, with
keyword-only parameters and **kwargs)."""


def scale(x, *rest, factor=2, **extra):
    return x * factor + sum(rest) + len(extra)
