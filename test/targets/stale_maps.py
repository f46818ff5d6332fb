# Reader case: a mapping freed next to one still in use. Maps 8 anonymous pages (one line
# of /proc/PID/maps), marks page 6, prints its address; on SIGUSR1 unmaps pages 0-3 (as
# a thread's stack or data-stack chunk next to another is freed) and prints UNMAPPED.
import ctypes
import signal
import sys

PAGE = 4096
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
PROT_RW, MAP_PRIVATE_ANON = 0x1 | 0x2, 0x02 | 0x20
base = libc.mmap(None, 8 * PAGE, PROT_RW, MAP_PRIVATE_ANON, -1, 0)
if base in (None, ctypes.c_void_p(-1).value):
    sys.exit('mmap failed')
ctypes.memmove(base + 6 * PAGE, b'SPYGLASS', 8)

signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
print('READY %d' % base, flush=True)
signal.sigwait([signal.SIGUSR1])
if libc.munmap(base, 4 * PAGE) != 0:
    sys.exit('munmap failed')
print('UNMAPPED', flush=True)
signal.sigwait([signal.SIGUSR1])
