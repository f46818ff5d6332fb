# Attach case: the process exits while spyglass is attaching. Its main thread sits in a C
# call that keeps the GIL (libc sleep through ctypes.PyDLL), so the queued attach code
# never runs, and then the process ends with os._exit.
import ctypes
import os
import sys

libc = ctypes.PyDLL(None)
print('READY', flush=True)
libc.sleep(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
os._exit(0)
