"""Imported by inside_app.py: a module with a name other than __main__, for `module`."""


def helper_double(x):
    return 2 * x
