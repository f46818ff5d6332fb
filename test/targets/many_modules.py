# A target whose sys.modules holds 5000 more modules, placed before `threading`, and a
# threading._active whose threads have names of their own: thread names are looked up
# through both (docs/dict-lookup.md). It prints hash() of a few strings, computed with the
# process's own random hash secret, for the test to compare with its own.
import json
import sys
import threading
import time
import types

saved = dict(sys.modules)
sys.modules.clear()
for i in range(5000):
    sys.modules['fake_module_%d' % i] = types.ModuleType('fake_module_%d' % i)
sys.modules.update(saved)


class Holder:
    pass


def idle(event):
    event.wait()


stop = threading.Event()
for name in ('alpha-worker', 'beta-worker', 'gamma-worker'):
    threading.Thread(target=idle, args=(stop,), name=name, daemon=True).start()
WORDS = json.loads(sys.argv[1])
print('READY ' + json.dumps([str(hash(w)) for w in WORDS]), flush=True)
while True:
    time.sleep(1)
