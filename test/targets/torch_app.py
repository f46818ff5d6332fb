"""Target for `torch` (run by the .venv-torch interpreter): a small nn.Module whose
forward the "driver" thread calls every 20 ms. With --no-torch, torch is never imported
(a plain function is called instead) and the target prints "TORCH <0|1>" whenever
'torch' in sys.modules changes, so a test sees that the agent did not import it.
With --fake-torch, a stand-in module is put in sys.modules['torch'] (any interpreter): a
torch "2.5.0+fake" with CUDA "available" and torch.cuda.memory's snapshot functions
(each call printed as "FAKE ..."; a snapshot is 300,000 known bytes, several chunks),
but no torch.profiler: the CUDA memory paths and the missing-API error run without a GPU.
The agent is loaded as in test/helpers/agent-target.ts: SIGUSR1 runs the bootstrap source
named by SPYGLASS_TEST_BOOTSTRAP in __main__'s namespace. Prints READY {"globals": [...]}.
"""
import json
import os
import signal
import sys
import threading
import time

FAKE_TORCH = '--fake-torch' in sys.argv
NO_TORCH = '--no-torch' in sys.argv or FAKE_TORCH

FAKE_SNAPSHOT = (bytes(range(256)) * 1172)[:300000]


def install_fake_torch():
    import types
    memory = types.ModuleType('torch.cuda.memory')

    def _record_memory_history(enabled='all', max_entries=None, **kwargs):
        sys.stdout.write('FAKE record %s\n' % enabled)

    def _dump_snapshot(filename):
        sys.stdout.write('FAKE dump\n')
        with open(filename, 'wb') as f:
            f.write(FAKE_SNAPSHOT)

    memory._record_memory_history = _record_memory_history
    memory._dump_snapshot = _dump_snapshot
    torch = types.ModuleType('torch')
    torch.__version__ = '2.5.0+fake'
    torch.cuda = types.SimpleNamespace(is_available=lambda: True, memory=memory)
    sys.modules['torch'] = torch

if not NO_TORCH:
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(64, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x)))


def plain_step(n):
    return n * 2


def driver():
    if NO_TORCH:
        n = 0
        while True:
            plain_step(n)
            n += 1
            time.sleep(0.02)
    model = Net()
    x = torch.randn(8, 64)
    with torch.no_grad():
        while True:
            model(x)
            time.sleep(0.02)


def run_bootstrap(signum, frame):
    with open(os.environ['SPYGLASS_TEST_BOOTSTRAP']) as f:
        source = f.read()
    exec(compile(source, '<string>', 'exec'), sys.modules['__main__'].__dict__)


def main():
    if FAKE_TORCH:
        install_fake_torch()
    signal.signal(signal.SIGUSR1, run_bootstrap)
    threading.Thread(target=driver, name='driver', daemon=True).start()
    sys.stdout.write('READY %s\n' % json.dumps({'globals': sorted(vars(sys.modules['__main__']))}))
    loaded = None
    while True:
        now = 'torch' in sys.modules
        if now != loaded:
            loaded = now
            sys.stdout.write('TORCH %d\n' % now)
        time.sleep(0.05)


main()
