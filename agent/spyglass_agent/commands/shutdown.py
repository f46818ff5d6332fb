"""`shutdown`: removes every client's hooks and stops the agent (socket, files, threads).
The agent stops once this request's end has been sent."""

NAME = 'shutdown'


def run(ctx):
    # gone from sys and the socket before the answer: an attach right after starts afresh
    ctx.agent.unregister()
    ctx.after_end(ctx.agent.stop)
    return {'clients': len(ctx.agent.connections())}
