# Started as root, it becomes user nobody (65534) and forks a child that makes itself
# undumpable (prctl(PR_SET_DUMPABLE, 0), as ssh-agent and gpg-agent do): nobody may then
# read the parent's memory but not the child's, whose /proc files are root's.
# Prints "READY <child pid>" once the child is undumpable. With --check it only exits 0:
# the tests run it so as user nobody to learn whether nobody may run this interpreter.
import ctypes
import os
import sys
import time

PR_SET_DUMPABLE = 4
NOBODY = 65534
libc = ctypes.CDLL(None, use_errno=True)


def child_sleep():
    while True:
        time.sleep(1)


def parent_sleep():
    while True:
        time.sleep(1)


if sys.argv[1:] == ['--check']:
    sys.exit(0)
os.setgid(NOBODY)
os.setuid(NOBODY)
# changing its user made it undumpable too: the parent is made readable again
libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
ready_r, ready_w = os.pipe()
child = os.fork()
if child == 0:
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    os.write(ready_w, b'.')
    child_sleep()
os.read(ready_r, 1)
print('READY', child, flush=True)
parent_sleep()
