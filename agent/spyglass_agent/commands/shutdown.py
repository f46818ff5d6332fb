"""`shutdown`: removes every client's hooks and stops the agent (socket, files, threads).
The agent stops once this request's end has been sent."""

NAME = 'shutdown'


def run(ctx):
    ctx.after_end(ctx.agent.stop)
    return {'clients': len(ctx.agent.connections())}
