"""Target: the bootstrap runs while its thread holds threading's internal lock, as a
pending call can when it lands inside Thread.start() or threading.enumerate() (a with
block over threading._active_limbo_lock). On SIGUSR1 the main thread takes that lock and
runs the bootstrap inside it, then holds it 300 ms more, then prints RELEASED.
Starting the agent's threads on the borrowed thread deadlocked it there for good."""
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_host import run_bootstrap  # noqa: E402

wanted = []


def main():
    signal.signal(signal.SIGUSR1, lambda signum, frame: wanted.append(1))
    print('READY ' + json.dumps({'globals': sorted(vars(sys.modules['__main__']))}), flush=True)
    while True:
        if wanted:
            del wanted[:]
            with threading._active_limbo_lock:
                run_bootstrap(None, None)
                time.sleep(0.3)
            print('RELEASED', flush=True)
        time.sleep(0.01)


main()
