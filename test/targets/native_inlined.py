# The inlined-frames tests' target: Python -> a C library built with -O2 -g (argv[1], from
# test/fixtures/native/inlined.c) whose exported hold_inlined waits inside two functions
# inlined into it: in libc's pause() (argv[2] "pause") or spinning (argv[2] "spin").
# Prints READY just before the call.
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])


def wait_in_inlined():
    print("READY", flush=True)
    lib.hold_inlined(1 if sys.argv[2] == "spin" else 0)


wait_in_inlined()
