"""`console_complete {session, text}`: Tab completions of `text` in a running console."""

from .. import console

NAME = 'console_complete'


def run(ctx):
    found = console.session(ctx.arg('session', str, required=True))
    return {'matches': found.complete(ctx.arg('text', str, ''))}
