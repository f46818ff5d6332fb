# A target for the reference tool's own checks (test/e2e/reference-words.test.ts): class A
# whose hello() the main thread calls every 50 ms, an asyncio loop in a thread with a task
# named "WordsTask", and words_mod.test_func (imported from the working directory, where
# the test writes words_mod.py) for reload; a "burner" thread holds the GIL for
# milliseconds at a time, for gilstat's warnings.
import asyncio
import threading
import time

import words_mod


class A:
    def hello(self, n):
        return words_mod.test_func() + n


async def waiting():
    while True:
        await asyncio.sleep(1)


async def loop_main():
    asyncio.get_running_loop().create_task(waiting(), name="WordsTask")
    await asyncio.sleep(100000)


def burn():
    while True:
        sum(range(300000))
        time.sleep(0.02)


threading.Thread(target=lambda: asyncio.run(loop_main()), name="loop", daemon=True).start()
threading.Thread(target=burn, name="burner", daemon=True).start()
instance = A()
print("READY", flush=True)
n = 0
while True:
    instance.hello(n)
    n += 1
    time.sleep(0.05)
