# Attach case: the main thread blocks in socket.accept(); READY carries the port, and
# ACCEPTED shows the accept still works after the attach.
import socket

srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen(1)
print('READY', srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
print('ACCEPTED', conn.recv(16).decode(), flush=True)
