# A program that replaces itself with another Python (os.execv, as a launcher or a
# re-exec after an upgrade does): it busy-loops in before_exec() for argv[1] seconds,
# then execs this file again (same pid), which busy-loops in after_exec() as long and
# exits with status 3.
import os
import sys
import time


def busy(seconds):
    end = time.time() + seconds
    while time.time() < end:
        sum(range(1000))


def before_exec(seconds):
    busy(seconds)


def after_exec(seconds):
    busy(seconds)


seconds = float(sys.argv[1])
if sys.argv[2:] == ['after']:
    after_exec(seconds)
    sys.exit(3)
before_exec(seconds)
sys.stdout.flush()
os.execv(sys.executable, [sys.executable, __file__, sys.argv[1], 'after'])
