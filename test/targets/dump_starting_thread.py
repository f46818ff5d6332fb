# A thread state the way a thread being started leaves it for a moment: created by the
# main thread (PyThreadState_New), so it carries the main thread's ids (3.8-3.11; bound
# to the creator on 3.12+ too), and has no frames yet. A dump must not show the main
# thread twice. The state is kept (never deleted) for the life of the process.
import ctypes
import threading

api = ctypes.pythonapi
api.PyInterpreterState_Main.restype = ctypes.c_void_p
api.PyThreadState_New.argtypes = [ctypes.c_void_p]
api.PyThreadState_New.restype = ctypes.c_void_p
unstarted = api.PyThreadState_New(api.PyInterpreterState_Main())


def wait_here():
    threading.Event().wait()


print('READY', flush=True)
wait_here()
