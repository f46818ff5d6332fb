# dump --locals on numpy scalars: each local holds a scalar of one numpy type whose value
# the test knows; the values differ so that a wrong width or offset shows.
import time

import numpy as np


def numpy_scalars():
    a_bool = np.bool_(True)
    an_int8 = np.int8(-3)
    an_int16 = np.int16(-300)
    an_int32 = np.int32(-70000)
    an_int64 = np.int64(-(2**40))
    a_uint8 = np.uint8(250)
    a_uint16 = np.uint16(65000)
    a_uint32 = np.uint32(4000000000)
    a_uint64 = np.uint64(2**63 + 5)
    a_float32 = np.float32(0.3)
    a_float64 = np.float64(0.7)
    a_half = np.float16(0.5)
    print("READY", flush=True)
    while True:
        time.sleep(1000)  # LINE:sleep


numpy_scalars()
