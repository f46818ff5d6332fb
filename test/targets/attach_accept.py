# Attach case: the main thread blocks in socket.accept() on a listening TCP socket.
import socket

srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen(1)
print('READY', srv.getsockname()[1], flush=True)
srv.accept()
