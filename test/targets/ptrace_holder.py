# Holds one thread of another process as its tracer (ptrace allows one tracer per
# thread), so that spyglass, trying to pause that thread, is refused as it would be
# without ptrace permission, while it can still read the process's memory. It stops and
# resumes the thread when told on stdin, one command a line:
#   stop   -> the thread is stopped (PTRACE_INTERRUPT); prints "stopped"
#   cont   -> the thread runs again; prints "running"
# Usage: ptrace_holder.py TID. Prints READY once it is the thread's tracer. When it
# exits (its stdin closed, or killed), the kernel detaches it and the thread runs on.
import ctypes
import os
import sys

PTRACE_CONT = 7
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


def ptrace(request, tid):
    if libc.ptrace(request, tid, None, None) == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"ptrace({request:#x}, {tid}): {os.strerror(err)}")


tid = int(sys.argv[1])
ptrace(PTRACE_SEIZE, tid)
print("READY", flush=True)
for line in sys.stdin:
    if line.strip() == "stop":
        ptrace(PTRACE_INTERRUPT, tid)
        os.waitpid(tid, WALL)
        print("stopped", flush=True)
    elif line.strip() == "cont":
        ptrace(PTRACE_CONT, tid)
        print("running", flush=True)
