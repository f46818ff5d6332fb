# A known mixed stack for dump --native: Python -> C (libc's qsort through ctypes) ->
# Python (the comparator) -> C (time.sleep). Prints READY from inside the comparator.
import ctypes
import ctypes.util
import time

libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))


def park():
    print("READY", flush=True)
    time.sleep(3600)


def compare(a, b):
    park()
    return a[0] - b[0]


def sort_numbers():
    arr = (ctypes.c_int * 4)(4, 3, 2, 1)
    libc.qsort(arr, 4, ctypes.sizeof(ctypes.c_int), CMP(compare))


sort_numbers()
