"""Target for the "agent does not answer" tests: prints TICK n every 20 ms from tick(); the
first call of tick made through a hook (its __code__ is no longer the original) makes the
main thread print HOLDING and hold the GIL for an hour inside a C call (libc sleep through ctypes.PyDLL,
which keeps the GIL: no CPU burnt), so the agent's threads can never run again."""
import ctypes
import time


def tick(i):
    print('TICK %d' % i)
    return i


ORIGINAL = tick.__code__


def hold_the_gil():
    print('HOLDING the GIL')
    ctypes.PyDLL(None).sleep(3600)


print('READY')
i = 0
while True:
    tick(i)
    if tick.__code__ is not ORIGINAL:
        hold_the_gil()
    i += 1
    time.sleep(0.02)
