# A target whose main thread sits in a C call that holds the GIL for a long time (libc
# sleep called through ctypes.PyDLL, which keeps the GIL): attach must give up after a
# bounded wait, say why, and leave the process as it was.
import ctypes
import sys

libc = ctypes.PyDLL(None)
seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
print('READY', flush=True)
libc.sleep(seconds)
print('AFTER', flush=True)
