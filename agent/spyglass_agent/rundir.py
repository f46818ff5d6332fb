"""The agent's private directory and socket.

The client chooses the socket path (``<base>/<pid>/agent.sock``, base being
``/tmp/spyglass-<uid>``: see src/channel/socket-path.ts) so both sides agree without
talking. Both directories must be real directories (not symlinks) owned by our user
with mode 0700: anything else (another user pre-creating them in /tmp to read or hijack
our socket) is refused, never followed. The socket itself is 0600. A socket (or log, or
error) file left by an earlier process that had the same pid is stale by definition (a
pid has one process, and an agent that stops removes its files) and is replaced.
"""

import os
import socket
import stat

from .errors import AgentError

SOCKET_NAME = 'agent.sock'
LOG_NAME = 'agent.log'
ERROR_NAME = 'bootstrap.err'  # written by the bootstrap when the agent could not start


def ensure_private_dir(path):
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise AgentError(
            'UnsafeRunDir',
            '%s exists and is not a directory (a symlink?); refusing to use it' % path,
            hint='remove it, or check who created it',
        )
    if st.st_uid != os.geteuid():
        raise AgentError(
            'UnsafeRunDir',
            "%s is owned by uid %d, not by the target's uid %d" % (path, st.st_uid, os.geteuid()),
            hint='another user created it; remove it as root',
        )
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(path, 0o700)


def listen(socket_path):
    """Creates the directories, binds and listens; returns the listening socket."""
    if len(socket_path.encode()) >= 108:
        raise AgentError('UnsafeRunDir', 'socket path too long for a Unix socket: %s' % socket_path)
    pid_dir = os.path.dirname(socket_path)
    ensure_private_dir(os.path.dirname(pid_dir))
    ensure_private_dir(pid_dir)
    for stale in (socket_path, os.path.join(pid_dir, ERROR_NAME), os.path.join(pid_dir, LOG_NAME)):
        try:
            os.unlink(stale)
        except FileNotFoundError:
            pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(socket_path)
        # the directory is 0700 already, so nobody else could connect in between
        os.chmod(socket_path, 0o600)
        sock.listen(16)
    except BaseException:
        sock.close()
        raise
    return sock


def remove(socket_path):
    """Removes the socket, the log, any bootstrap error and the per-pid directory (if nothing else is in it)."""
    pid_dir = os.path.dirname(socket_path)
    for name in (SOCKET_NAME, LOG_NAME, ERROR_NAME):
        try:
            os.unlink(os.path.join(pid_dir, name))
        except OSError:
            pass
    try:
        os.rmdir(pid_dir)
    except OSError:
        pass
