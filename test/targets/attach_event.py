# Attach case: the main thread blocks for ever in Event().wait() while two other threads run Python.
import threading

def busy():
    n = 0
    while True:
        n = (n * 31 + 7) % 1000003

for i in range(2):
    threading.Thread(target=busy, name=f'busy-{i}', daemon=True).start()
print('READY', flush=True)
threading.Event().wait()
