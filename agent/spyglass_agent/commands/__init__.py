"""The command registry: the one place that maps a command name to its module.

A command module defines ``NAME`` and ``run(ctx)`` (ctx: context.RequestContext).
``run`` returns the data sent with ``end`` (or None); it streams with ``ctx.emit`` and a
streaming command returns when ``ctx.wait()`` says the request must stop. Errors the
client caused are raised as errors.AgentError. To add a command: write
commands/<name>.py and add it to _MODULES below.
"""
from . import eval as _eval
from . import hello, ping, probe, reset, shutdown, threads
from . import monitor, trace, watch
from . import console, console_complete, getglobal, module, tt, vmtool

_MODULES = (hello, ping, _eval, threads, probe, reset, shutdown, watch, trace, monitor,
            tt, getglobal, vmtool, module, console, console_complete)

REGISTRY = {m.NAME: m.run for m in _MODULES}
