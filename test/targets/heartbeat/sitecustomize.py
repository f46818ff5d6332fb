"""Test-only heartbeat: test/helpers/targets.ts puts this directory on PYTHONPATH of the
targets it starts with `heartbeat: true`, so Python imports it at start-up (as `site`
imports any sitecustomize) and a daemon thread writes one byte to the inherited file
descriptor SPYGLASS_TEST_HEARTBEAT_FD every 20 ms. The test side counts the bytes: a
target that is alive but frozen (a C loop holding the GIL, a collection that never ends)
stops beating. Nothing is printed and nothing else of the target changes."""
import os
import threading
import time


def _beat(fd):
    while True:
        try:
            os.write(fd, b'.')
        except OSError:
            return  # the test side went away
        time.sleep(0.02)


_fd = os.environ.get('SPYGLASS_TEST_HEARTBEAT_FD')
if _fd:
    threading.Thread(target=_beat, args=(int(_fd),), name='test-heartbeat', daemon=True).start()
