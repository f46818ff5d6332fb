"""`reset`: removes everything this client owns (hooks, recordings) and stops its other
running requests; the target's functions are the originals again."""

NAME = 'reset'


def run(ctx):
    cancelled = ctx.connection.cancel_requests(keep=ctx)
    return {'cancelled': cancelled, 'released': ctx.client.release_all()}
