"""Wire format: one JSON object per line (UTF-8, ``\\n``-terminated) each way; see
agent/PROTOCOL.md. Data only: nothing is ever unpickled or evaluated from a message."""

import json
import math

PROTOCOL_VERSION = 1
MAX_LINE = 4 << 20  # a request larger than this is refused (and the connection closed)


def encode(message):
    try:
        text = json.dumps(message, allow_nan=False, separators=(',', ':'), default=_fallback)
    except ValueError:  # NaN/Infinity are not JSON: send them as strings
        text = json.dumps(_finite(message), separators=(',', ':'), default=_fallback)
    return text.encode('utf-8', 'surrogatepass') + b'\n'


def decode(line):
    """The message in one line, or raises ValueError."""
    message = json.loads(line.decode('utf-8'))
    if not isinstance(message, dict):
        raise ValueError('a message must be a JSON object')
    return message


def _fallback(obj):
    # commands send plain data; anything else is shown by type, never by calling into it
    return '<%s>' % type(obj).__name__


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
