"""`hello`: the handshake. Who the agent is and what the target runs."""

import os
import sys

from .. import protocol
from .threads import thread_list

NAME = 'hello'


def run(ctx):
    agent = ctx.agent
    return {
        'agent_version': agent.version,
        'protocol': protocol.PROTOCOL_VERSION,
        'pid': os.getpid(),
        'python': {
            'version': '%d.%d.%d' % sys.version_info[:3],
            'hexversion': sys.hexversion,
            'implementation': sys.implementation.name,
            'executable': sys.executable,
        },
        'socket': agent.socket_path,
        'started_at': agent.started_at,
        'clients': len(agent.connections()),
        'client': ctx.connection.number,
        'threads': [t['name'] for t in thread_list()],
    }
