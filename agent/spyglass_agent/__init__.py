"""spyglass's in-process agent. Pure standard library, Python 3.8-3.14.

It is loaded by path from the installed spyglass (never installed into the target's
environment) by the bootstrap that src/attach/bootstrap.ts builds, registered in
sys.modules under the private name ``_spyglass_agent`` (see the bootstrap for why), and
started with start(). The running agent is kept in ``sys._spyglass_agent`` so a second
attach finds and reuses it. Protocol: agent/PROTOCOL.md.
"""

import sys
import threading

VERSION = '0.1.0'

_start_lock = threading.Lock()


def start(socket_path):
    """Returns the running agent, starting one listening on socket_path if needed."""
    from .server import SYS_ATTR, Agent

    with _start_lock:
        agent = getattr(sys, SYS_ATTR, None)
        if agent is not None and agent.alive():
            return agent
        agent = Agent(socket_path, VERSION)
        agent.start()
        setattr(sys, SYS_ATTR, agent)
        return agent
