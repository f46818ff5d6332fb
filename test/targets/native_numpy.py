# dump --native inside a BLAS call: the main thread multiplies matrices forever.
import numpy as np

a = np.random.rand(400, 400)


def multiply():
    while True:
        a @ a


print("READY", flush=True)
multiply()
