"""Sending a file the target wrote back to the client, over the request's own stream, so
the user gets it where spyglass runs even when the target lives in a container with
another filesystem. The bytes are never interpreted here (a torch snapshot is a pickle:
it is sent as it is, never loaded).

Events: ``file_chunk`` {seq, data: base64} in order; the caller puts the size and the
SHA-256 (from ``send_file``'s result) in its end data for the client to check. Unlike
other events, chunks are never dropped when the client reads slowly: the sender waits.
"""

import base64
import hashlib
import time

CHUNK_BYTES = 192 * 1024  # 256 KiB of base64 per event
_RETRY_SECONDS = 0.01


def _emit_waiting(ctx, data):
    """Queues one chunk, waiting while the connection's queue is full; False if the
    request ended meanwhile."""
    message = {'id': ctx.id, 'event': 'file_chunk', 'data': data}
    while not ctx.connection.outbox.put_event(message):
        if ctx.done.is_set():
            return False
        time.sleep(_RETRY_SECONDS)
    return True


def send_file(ctx, path):
    """Streams ``path`` to the client; returns {'bytes', 'sha256', 'complete'}."""
    digest = hashlib.sha256()
    size = 0
    seq = 0
    complete = True
    with open(path, 'rb') as f:
        while True:
            block = f.read(CHUNK_BYTES)
            if not block:
                break
            digest.update(block)
            size += len(block)
            if not _emit_waiting(ctx, {'seq': seq, 'data': base64.b64encode(block).decode('ascii')}):
                complete = False
                break
            seq += 1
    return {'bytes': size, 'sha256': digest.hexdigest(), 'chunks': seq, 'complete': complete}
