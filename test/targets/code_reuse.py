# The reader's code-object cache meeting a reused address (test/e2e/reader-cache.test.ts).
# The main thread spins in spin_1 until SIGUSR1, then spin_1 is freed and spin_2 made
# from the same template (same size, same bytecode: the allocator hands the freed block
# out again, and the frame's instruction offset fits both), and so on. Prints
# "RUNNING <name> <address of its code object>" as each starts.
import signal
import sys
import types

switch = [False]
signal.signal(signal.SIGUSR1, lambda *_: switch.__setitem__(0, True))


def template():
    while not switch[0]:
        pass


def run(n):
    name = "spin_%d" % n
    if sys.version_info >= (3, 11):
        code = template.__code__.replace(co_name=name, co_qualname=name)
    else:
        code = template.__code__.replace(co_name=name)
    fn = types.FunctionType(code, globals(), name)
    del code
    print("RUNNING", name, id(fn.__code__), flush=True)
    fn()


print("READY", flush=True)
n = 0
while True:
    n += 1
    switch[0] = False
    run(n)
