"""`threads`: the target's threads (ours are marked ``agent``)."""

import sys
import threading

NAME = 'threads'
AGENT_PREFIX = 'spyglass-'


def thread_list():
    known = {t.ident: t for t in threading.enumerate() if t.ident is not None}  # None: starting
    out = []
    for ident in sorted(set(known) | set(sys._current_frames())):
        t = known.get(ident)
        name = t.name if t is not None else '<not started by threading>'
        out.append(
            {
                'ident': ident,
                'native_id': getattr(t, 'native_id', None),
                'name': name,
                'daemon': t.daemon if t is not None else None,
                'agent': name.startswith(AGENT_PREFIX),
            }
        )
    return out


def run(ctx):
    return {'threads': thread_list()}
