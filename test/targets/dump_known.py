# A target with known threads, functions, line numbers and local values, for the dump
# tests. Line numbers matter: the tests find them by the "# LINE:<tag>" markers.
import sys
import threading
import time

ready = []


def leaf_sleep(seconds):
    while True:
        time.sleep(seconds)  # LINE:leaf


def middle(n):
    label = "middle-%d" % n
    return leaf_sleep(1000)  # LINE:middle


class Worker:
    def run(self, count):
        return middle(count)  # LINE:run


def show_locals(an_int, a_float, *rest, a_str="h\u00e9llo w\u00f6rld", **options):
    big = -12345678901234567890
    data = b"\x00ab'"
    nothing = None
    flag = True
    items = [1, "two", 3.0]
    single = (1,)
    mapping = {"k": "v"}
    nested = [[1, ["deep", [2]]], {"k": {"j": 3}}]
    many = list(range(1000))
    long_text = "x" * 1000
    obj = Worker()
    # an argument and a local captured by a closure live in cells (before 3.11 the
    # argument's own slot is cleared when the call starts)
    captured = "in a cell"

    def inner():
        return a_float, captured, bound_later

    while True:
        time.sleep(1000)  # LINE:locals
    bound_later = 1  # a captured local not bound yet: its cell is empty


def sort_forever():
    data = [float((i * 7919) % 1000003) for i in range(2000000)]
    ready.append("sorter")
    while True:
        sorted(data)  # LINE:sort


def main():
    threads = [
        threading.Thread(target=Worker().run, args=(7,), name="sleeper-1", daemon=True),
        threading.Thread(target=show_locals, args=(42, 2.5, "extra"), kwargs={"opt": 1}, name="locals-demo", daemon=True),
    ]
    if "--sorter" in sys.argv:
        threads.append(threading.Thread(target=sort_forever, name="sorter", daemon=True))
    for t in threads:
        t.start()
    while "--sorter" in sys.argv and not ready:
        time.sleep(0.01)
    time.sleep(0.2)
    print("READY", flush=True)
    while True:
        time.sleep(1000)  # LINE:main


main()
