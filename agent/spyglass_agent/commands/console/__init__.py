"""`console`: an interactive console inside the target (see console_session).

The request streams `started {session}`, then `output {stream, text}` and `prompt
{prompt}` events; the client sends `{id, input: {line} | {interrupt} | {eof}}` for it.
It ends when the user leaves the console (Ctrl-D, exit(), quit(), sys.exit()) or the
request is cancelled; the target is never stopped. Tab completion is the separate
`console_complete` request, so it works while a statement runs.
"""

import threading
import time

from .console_session import ConsoleSession
from ...errors import AgentError

NAME = 'console'

_lock = threading.Lock()
_sessions = {}  # session id -> ConsoleSession


def session(sid):
    with _lock:
        found = _sessions.get(sid)
    if found is None:
        raise AgentError('NotFound', 'no console session %r' % (sid,))
    return found


def run(ctx):
    def emit(event, data):
        # the console's output is worth waiting for (it blocks only the console's thread)
        while not ctx.emit(event, data):
            if ctx.done.is_set():
                return
            time.sleep(0.01)

    console = ConsoleSession(emit)
    sid = '%d.%s' % (ctx.connection.number, ctx.id)

    def on_input(data):
        if not isinstance(data, dict):
            return
        if 'line' in data and isinstance(data['line'], str):
            console.feed(data['line'])
        elif data.get('interrupt'):
            console.interrupt()
        elif data.get('eof'):
            console.eof()

    with _lock:
        _sessions[sid] = console
    try:
        ctx.on_input(on_input)
        ctx.emit('started', {'session': sid})
        console.start()
        while not console.finished.wait(0.1):
            if ctx.done.is_set():
                # cancelled, detached or disconnected: stop what runs and leave
                console.interrupt()
                console.eof()
                console.finished.wait(2.0)
                break
    finally:
        with _lock:
            _sessions.pop(sid, None)
    return {'reason': console.exit_reason or 'cancelled'}
