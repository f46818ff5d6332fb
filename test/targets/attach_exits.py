# Attach case: the process ends while spyglass is attaching. Its main thread sits in a C
# call that keeps the GIL (libc sleep through ctypes.PyDLL), so the queued attach code
# never runs. A watcher process kills it 300 ms after it is first ptrace-attached, so
# the end falls inside the attach however slowly the machine runs (a fixed delay did
# not: under load spyglass sometimes started only after the process had gone).
import ctypes
import os
import subprocess
import sys

WATCHER = r'''
import os, signal, sys, time
pid = int(sys.argv[1])
deadline = time.time() + float(sys.argv[2])
while time.time() < deadline:
    try:
        with open('/proc/%d/status' % pid) as f:
            tracer = [l for l in f if l.startswith('TracerPid:')][0].split()[1]
    except (OSError, IndexError):
        sys.exit(0)  # gone already
    if tracer != '0':
        time.sleep(0.3)
        break
    time.sleep(0.005)
os.kill(pid, signal.SIGKILL)
'''

lifetime = sys.argv[1] if len(sys.argv) > 1 else '60'  # ends by then even if never attached
subprocess.Popen([sys.executable, '-c', WATCHER, str(os.getpid()), lifetime])
libc = ctypes.PyDLL(None)
print('READY', flush=True)
libc.sleep(int(lifetime) + 5)
os._exit(0)
