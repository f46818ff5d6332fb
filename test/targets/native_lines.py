# dump --native's source-line test: Python -> a C library built with -g (argv[1], from
# test/fixtures/native/lines.c) -> libc's pause(). Prints READY just before the call.
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])


def wait_in_c():
    print("READY", flush=True)
    lib.hold_outer()


wait_in_c()
