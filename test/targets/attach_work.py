# A target whose results are deterministic except for SECRET, which only the process knows
# until it prints it at the very end: the attach test reads it through the agent while the
# target runs, then checks the target finished exactly as an untouched run does.
import sys
import time
import uuid

SECRET = uuid.uuid4().hex
STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 40


def work(i):
    return sum(j * j for j in range(i * 200)) % 9973


print('READY', flush=True)
results = []
for i in range(STEPS):
    results.append(work(i))
    print('step', i, results[-1], flush=True)
    time.sleep(0.05)
print('DONE', sum(results), SECRET, flush=True)
