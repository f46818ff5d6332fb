# record --native's split test: a loop spending 3 ms in one C function for every 1 ms in
# another (test/fixtures/native/spin.c, built by the test and passed as argv[1]).
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])
print("READY", flush=True)
while True:
    lib.spin_three()
    lib.spin_one()
