"""Every error the agent can send, declared once. An error travels to the client as
``{id, error: {type, message, hint}}`` and is shown as one line; ``type`` is one of
TYPES, which agent/PROTOCOL.md lists too (test/agent_py/test_errors.py keeps the three
in step). Errors the client caused are raised as AgentError; any other exception in a
command is an agent bug and travels as InternalError, with the agent-side traceback.
"""

TYPES = {
    # the connection and the request
    'PermissionDenied': "the peer is neither the target's user nor root; the connection is refused",
    'BadMessage': 'a line that is not a protocol message, or a request id already running',
    'UnknownCommand': 'no such command; the hint lists them',
    'BadArguments': 'a missing argument, or one of the wrong type or value',
    'InternalError': 'a bug in the agent (with `detail`: its traceback)',
    'UnsafeRunDir': 'the socket directory cannot be used safely (a symlink, another owner) or its path is too long',
    # finding what the user named (names.py): the message offers the nearest names
    'ModuleNotFound': 'the module is not imported in the target (spyglass never imports it)',
    'ClassNotFound': 'no such class in the module, or the name is not a class',
    'MethodNotFound': 'no such function in the module, or method in the class (its bases included)',
    'AttributeNotFound': 'no such field of the module or class (getglobal)',
    'NestedNotFound': 'no function of that name is defined inside the method (-nm)',
    'NotHookable': 'the name is not a Python function that can be hooked (a builtin, a class...)',
    'NotFound': 'a tt record or console session that does not exist (any more)',
    'NoInstance': 'the class has no live instance (mem refs)',
    # expressions the user wrote (-f, -e, watch's expression, eval)
    'BadExpression': 'the expression does not compile, or names what it may not',
    'ExpressionFailed': 'the expression raised when it ran',
    # commands
    'TraceUnavailable': 'tracing is not possible here (every sys.monitoring tool id is taken, or a C profiler holds the thread)',
    'Timeout': 'a replay still running after its time limit (it goes on in the background)',
    'TorchNotImported': 'the target has not imported torch (spyglass never imports it)',
    'TorchApiMissing': "the target's torch lacks a function the command needs",
    'CudaUnavailable': 'a CUDA command on a target without CUDA',
    'TorchFailed': 'torch raised while profiling or recording memory',
    'NotReloadable': 'reload refused (a built-in, a nested function, a file that no longer defines it, new free variables); nothing changed',
    'SourceSyntaxError': 'reload: the source file as it is now does not compile (the message shows where); nothing changed',
    'NothingToUndo': 'reload --undo of a function with no reload left to undo',
    'ClientTooSlow': 'the client did not read a long answer (stack -a) within its time',
}


class AgentError(Exception):
    def __init__(self, type_, message, hint=None):
        Exception.__init__(self, message)
        self.type = type_ if type_ in TYPES else 'InternalError'
        self.message = message if type_ in TYPES else 'undeclared error type %r: %s' % (type_, message)
        self.hint = hint

    def to_json(self):
        out = {'type': self.type, 'message': self.message}
        if self.hint:
            out['hint'] = self.hint
        return out


def bad_args(message, hint=None):
    return AgentError('BadArguments', message, hint)
