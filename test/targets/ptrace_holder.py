# Holds one thread of another process as its tracer (PTRACE_SEIZE: the thread runs on
# undisturbed), as a debugger or strace would. A thread has one tracer at a time, so
# spyglass, asking to pause that thread, is refused (EPERM) while it can still read the
# process's memory. Usage: ptrace_holder.py TID. Prints READY once it is the tracer, then
# waits to be killed; the kernel then detaches it.
import ctypes
import signal
import sys

PTRACE_SEIZE = 0x4206

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long

if libc.ptrace(PTRACE_SEIZE, int(sys.argv[1]), None, None) == -1:
    sys.exit(f"PTRACE_SEIZE {sys.argv[1]}: errno {ctypes.get_errno()}")
print("READY", flush=True)
while True:
    signal.pause()
