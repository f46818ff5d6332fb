# A function that imports a module afresh at every call (for trace: the import machinery's
# frames, which 3.8-3.11 trace, are left out of its tree).
import sys
import time


def do_import():
    sys.modules.pop("colorsys", None)
    import colorsys  # noqa: F401

    return len("x")


print("READY", flush=True)
while True:
    do_import()
    time.sleep(0.05)
