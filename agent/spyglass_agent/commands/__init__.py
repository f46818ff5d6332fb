"""The command registry: the one place that lists the agent's commands.

Each command is the module commands/<name>.py, or the package commands/<name>/ when it
has an engine of its own (its __init__.py is the command, its engine sits beside it),
defining ``NAME`` (= <name>) and
``run(ctx)`` (ctx: context.RequestContext). ``run`` returns the data sent with ``end``
(or None); it streams with ``ctx.emit`` and a streaming command returns when
``ctx.wait()`` says the request must stop. Errors the client caused are raised as
errors.AgentError. To add a command: write commands/<name>.py and add <name> to NAMES.
A command living inside another command's package is named in MODULES.

Modules are imported on their command's first request, on the request's own thread:
the bootstrap runs on a thread borrowed from the target (its main thread, holding the
GIL), and importing every command there would stall the target for ~150 ms.
"""

import importlib

NAMES = (
    'hello',
    'ping',
    'eval',
    'threads',
    'probe',
    'reset',
    'shutdown',
    'watch',
    'trace',
    'monitor',
    'tt',
    'getglobal',
    'vmtool',
    'module',
    'console',
    'console_complete',
    'mem',
    'complete_names',
    'torch',
    'reload',
    'async_tasks',
)

# commands whose module is not commands/<name>: the console's completion runs beside its session
MODULES = {'console_complete': 'console.console_complete'}


def find(name):
    """The run function of command ``name``, or None for an unknown command."""
    if name not in NAMES:
        return None
    return importlib.import_module('.' + MODULES.get(name, name), __name__).run
