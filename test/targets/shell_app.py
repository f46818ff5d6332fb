# Target for the shell and one-shot tests. Two named threads parked in known functions
# (their stacks never change, so `stack` and `spyglass dump` can be compared line by
# line); a `caller` thread calling handle() every 20 ms and printing every 25th result
# (a pure function of n, so a hook that changed a result would show); a main thread that
# keeps running Python; never_called() for a watch that waits; codes_restored() says
# whether every function is its original code again.
import threading
import time


class Greeter:
    greeting = 'hello'

    def greet(self, name):
        return '%s %s' % (self.greeting, name)


def handle(n):
    return Greeter().greet('n%d' % n)


def never_called():
    return 'never'


ORIGINAL_CODE = {f: f.__code__ for f in (handle, never_called, Greeter.greet)}


def codes_restored():
    return all(f.__code__ is c for f, c in ORIGINAL_CODE.items())


def park(event):
    event.wait()  # LINE:park


def parked_in_middle(event):
    park(event)  # LINE:middle


def caller():
    n = 0
    while True:
        result = handle(n)
        if n % 25 == 0:
            print('HANDLED', n, result, flush=True)
        n += 1
        time.sleep(0.02)


def main_loop():
    while True:
        time.sleep(0.05)  # LINE:main


never = threading.Event()
threading.Thread(target=parked_in_middle, args=(never,), name='parked-1', daemon=True).start()
threading.Thread(target=park, args=(never,), name='parked-2', daemon=True).start()
threading.Thread(target=caller, name='caller', daemon=True).start()
time.sleep(0.1)
print('READY', flush=True)
main_loop()
