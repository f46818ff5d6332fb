"""Errors a client can cause (unknown module, bad argument, unhookable function). They
travel to the client as ``{id, error: {type, message, hint}}`` and are shown as one line;
any other exception in a command is an agent bug and travels as type ``InternalError``.
"""


class AgentError(Exception):
    def __init__(self, type_, message, hint=None):
        Exception.__init__(self, message)
        self.type = type_
        self.message = message
        self.hint = hint

    def to_json(self):
        out = {'type': self.type, 'message': self.message}
        if self.hint:
            out['hint'] = self.hint
        return out


def bad_args(message, hint=None):
    return AgentError('BadArguments', message, hint)
