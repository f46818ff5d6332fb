"""The command registry: the one place that lists the agent's commands.

Each command is the module commands/<name>.py, defining ``NAME`` (= <name>) and
``run(ctx)`` (ctx: context.RequestContext). ``run`` returns the data sent with ``end``
(or None); it streams with ``ctx.emit`` and a streaming command returns when
``ctx.wait()`` says the request must stop. Errors the client caused are raised as
errors.AgentError. To add a command: write commands/<name>.py and add <name> to NAMES.

Modules are imported on their command's first request, on the request's own thread:
the bootstrap runs on a thread borrowed from the target (its main thread, holding the
GIL), and importing every command there would stall the target for ~150 ms.
"""
import importlib

NAMES = ('hello', 'ping', 'eval', 'threads', 'probe', 'reset', 'shutdown',
         'watch', 'trace', 'monitor', 'tt', 'getglobal', 'vmtool', 'module', 'console', 'console_complete',
         'mem', 'complete_names', 'torch')


def find(name):
    """The run function of command ``name``, or None for an unknown command."""
    if name not in NAMES:
        return None
    return importlib.import_module('.' + name, __name__).run
