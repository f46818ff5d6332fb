# dump --native's source-line and MiniDebugInfo tests: Python -> a C library (argv[1],
# built from test/fixtures/native/lines.c or static-fn.c) -> libc's pause(). Prints
# READY just before the call.
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])


def wait_in_c():
    print("READY", flush=True)
    lib.hold_outer()


wait_in_c()
