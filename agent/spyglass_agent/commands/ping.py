"""`ping`: answers at once (liveness and round-trip time)."""

import time

NAME = 'ping'


def run(ctx):
    return {'time': time.time()}
