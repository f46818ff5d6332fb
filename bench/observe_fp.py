"""Drives the reference tool (PyFlightProfiler, `pip install flight_profiler`) for
bench/observe.ts, through the same calls its own shell makes: attach (ptrace injection)
once, then start and stop watch/trace commands on request. Runs with the python of the
virtualenv that holds flight_profiler (the target must run in that environment too).

usage: python observe_fp.py PID; then stdin lines
  on <command line>     e.g. `on watch __main__ hot -f False -n 100000000` -> "ON"
  off <command line>    the same line: stops it                              -> "OFF"
"""

import sys
import threading

from flight_profiler.client import ProfilerCli, do_inject_on_linux, find_port_available
from flight_profiler.communication.flight_client import FlightClient


def drain(port, name, param):
    # the results stream: read and thrown away, as a shell that prints them would read them
    client = FlightClient('localhost', port)
    try:
        for _ in client.request_stream({'target': name, 'param': 'on ' + param}):
            pass
    except Exception:
        pass
    finally:
        client.close()


def main():
    pid = sys.argv[1]
    port = find_port_available(16000, 16500)
    do_inject_on_linux(port, pid)
    if not ProfilerCli(port=port, target_executable=sys.executable).check_status(timeout=10):
        print('FAILED the agent did not answer after injection', flush=True)
        return 1
    print('ATTACHED %d' % port, flush=True)
    for line in sys.stdin:
        verb, command = line.strip().split(' ', 1)
        name, param = command.split(' ', 1)
        if verb == 'on':
            threading.Thread(target=drain, args=(port, name, param), daemon=True).start()
            print('ON', flush=True)
        else:
            client = FlightClient('localhost', port)
            try:
                client.request({'target': name, 'param': 'off ' + param})
            finally:
                client.close()
            print('OFF', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
