"""What a command receives: its arguments, a way to stream events, its cancellation
state, and the scopes that own what it creates."""

import threading

from .errors import bad_args


class RequestContext(object):
    """One request being served.

    - ``args``: the request's arguments (a dict decoded from JSON).
    - ``emit(event, data)``: streams ``{id, event, data}`` to the client. Thread-safe and
      never blocks: application threads call it from hooks. When the client reads too
      slowly the event is dropped and counted (the count is sent with ``end``).
    - ``done``: a threading.Event set when the request must stop (the client cancelled,
      detached or went away, or the command called ``stop()``). Streaming commands wait on
      it and return.
    - ``owner``: the Scope of this request: hooks installed with it are removed when the
      request ends, whatever the reason.
    - ``client``: the Scope of the connection, for what must outlive the request but not
      the client; released by ``reset``, detach or disconnect. (What must outlive the
      client too, like tt's records, is ``agent.shared(...)``.)
    - ``agent``: the running Agent (for commands about the agent itself).
    - ``on_input(handler)``: for interactive commands (console), what the client sends to
      the running request.
    """

    def __init__(self, request_id, cmd, args, connection, owner):
        self.id = request_id
        self.cmd = cmd
        self.args = args
        self.owner = owner
        self.connection = connection
        self.client = connection.scope
        self.agent = connection.agent
        self.done = threading.Event()
        self.cancelled = False  # True when the client asked (cancel, detach, disconnect)
        self.dropped = 0
        self._after_end = []
        self._input_lock = threading.Lock()
        self._input_handler = None
        self._early_inputs = []

    def emit(self, event, data=None):
        """Queues an event; returns False when it was dropped."""
        if self.done.is_set() and self.cancelled:
            return False
        if self.connection.outbox.put_event({'id': self.id, 'event': event, 'data': data}):
            return True
        self.dropped += 1
        return False

    def stop(self):
        """Ends a streaming command from the inside (e.g. its -n limit was reached)."""
        self.done.set()

    def cancel(self):
        self.cancelled = True
        self.done.set()

    def wait(self, timeout=None):
        """Waits until the request must stop or timeout passes; True if it must stop."""
        return self.done.wait(timeout)

    def after_end(self, fn):
        """Runs fn() once the final message of this request has been written."""
        self._after_end.append(fn)

    def on_input(self, handler):
        """handler(data) receives each ``{id, input: data}`` the client sends for this request
        (on the connection's reader thread: it must return quickly). Inputs that arrived
        before the handler was set are delivered now, in order."""
        with self._input_lock:
            self._input_handler = handler
            early, self._early_inputs = self._early_inputs, []
        for data in early:
            handler(data)

    def deliver_input(self, data):
        with self._input_lock:
            handler = self._input_handler
            if handler is None:
                self._early_inputs.append(data)
                return
        handler(data)

    def arg(self, name, kind=None, default=None, required=False):
        """One argument, checked: kind is a type or a tuple of types."""
        if name not in self.args or self.args[name] is None:
            if required:
                raise bad_args('%s: missing argument %r' % (self.cmd, name))
            return default
        value = self.args[name]
        if kind is not None and (not isinstance(value, kind) or (isinstance(value, bool) and kind is int)):
            raise bad_args('%s: argument %r must be %s, not %r' % (self.cmd, name, _kind_name(kind), value))
        return value


def _kind_name(kind):
    if isinstance(kind, tuple):
        return ' or '.join(k.__name__ for k in kind)
    return kind.__name__
