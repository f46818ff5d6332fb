"""One client connection: a reader thread that decodes requests and starts each on its
own thread, and a writer thread that drains a bounded outbox onto the socket.

Everything the client creates is owned by ``self.scope``; when the connection ends for
any reason (detach, EOF after ``kill -9``, ECONNRESET, agent shutdown) the scope is
closed, which removes every hook the client installed, before anything else happens.
"""

import collections
import itertools
import socket
import threading
import traceback

from . import hooks, log, protocol
from . import commands
from .context import RequestContext
from .errors import AgentError
from .scope import Scope

EVENTS_QUEUED_MAX = 1000  # per connection: beyond it app threads drop events, never wait

_request_numbers = itertools.count(1)


class Outbox(object):
    """Messages waiting for the writer thread. Events (from app threads) are bounded;
    control messages (end, error, detached) always get in, so a stream always ends."""

    def __init__(self, limit=EVENTS_QUEUED_MAX):
        self._cond = threading.Condition(threading.Lock())
        self._queue = collections.deque()
        self._events = 0
        self._limit = limit
        self._closed = False

    def put_event(self, message):
        with self._cond:
            if self._closed or self._events >= self._limit:
                return False
            self._events += 1
            self._queue.append((True, message, None))
            self._cond.notify()
            return True

    def put_control(self, message, after=None):
        with self._cond:
            if self._closed:
                return False
            self._queue.append((False, message, after))
            self._cond.notify()
            return True

    def get_all(self):
        """Every waiting [(message, after-callbacks)], in order; [] once closed and drained."""
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            out = []
            while self._queue:
                is_event, message, after = self._queue.popleft()
                if is_event:
                    self._events -= 1
                out.append((message, after))
            return out

    def close(self, drain=False):
        with self._cond:
            self._closed = True
            if not drain:
                self._queue.clear()
            self._cond.notify_all()


class Connection(object):
    def __init__(self, agent, sock, number, peer):
        self.agent = agent
        self.sock = sock
        self.number = number
        self.peer = peer  # (pid, uid, gid) from SO_PEERCRED
        self.scope = Scope('client %d' % number)
        self.outbox = Outbox()
        self._requests = {}  # id -> RequestContext
        self._lock = threading.Lock()
        self._closed = False  # released: requests stopped, everything owned removed
        self._ended = False  # and the socket closed
        self._reader = threading.Thread(target=self._read_loop, name='spyglass-conn-%d' % number)
        self._reader.daemon = True
        self._writer = threading.Thread(target=self._write_loop, name='spyglass-send-%d' % number)
        self._writer.daemon = True

    def start(self):
        self._writer.start()
        self._reader.start()

    # -- reading -------------------------------------------------------------------
    def _read_loop(self):
        hooks.unobserved_thread()
        reader = self.sock.makefile('rb', buffering=65536)
        try:
            while True:
                line = reader.readline(protocol.MAX_LINE + 1)
                if not line:
                    break  # EOF: the client closed or died
                if len(line) > protocol.MAX_LINE:
                    self._send_error(None, AgentError('BadMessage', 'message longer than %d bytes' % protocol.MAX_LINE))
                    break
                if not line.strip():
                    continue
                if not self._handle_line(line):
                    break
        except (OSError, ValueError):
            pass  # ECONNRESET, or the socket was shut down by close()
        except Exception:
            log.error('reader crashed: %s' % traceback.format_exc())
        finally:
            try:
                reader.close()
            except Exception:
                pass
            self.close()

    def _handle_line(self, line):
        """Dispatches one message; False ends the connection."""
        try:
            message = protocol.decode(line)
        except ValueError as e:
            self._send_error(None, AgentError('BadMessage', 'not a JSON object: %s' % e))
            return True
        if message.get('detach'):
            self._release()  # everything is undone before the client hears "detached"
            self.outbox.put_control({'detached': True})
            return False
        request_id = message.get('id')
        if message.get('cancel') or 'input' in message:
            with self._lock:
                ctx = self._requests.get(request_id) if _valid_id(request_id) else None
            if ctx is None:
                return True  # the request has just ended: nothing to cancel or feed
            if message.get('cancel'):
                ctx.cancel()
                ctx.owner.close()  # hooks go now, even if the command is slow to return
            else:
                try:
                    ctx.deliver_input(message['input'])
                except Exception:
                    log.error('input handler of %s failed: %s' % (ctx.cmd, traceback.format_exc()))
            return True
        if not _valid_id(request_id):
            self._send_error(None, AgentError('BadMessage', 'a request needs an "id" (number or string)'))
            return True
        self._start_request(request_id, message.get('cmd'), message.get('args'))
        return True

    def _start_request(self, request_id, cmd, args):
        if args is None:
            args = {}
        if not isinstance(cmd, str) or cmd not in commands.NAMES:
            self._send_error(
                request_id,
                AgentError(
                    'UnknownCommand',
                    'unknown command %r' % (cmd,),
                    hint='commands: ' + ', '.join(sorted(commands.NAMES)),
                ),
            )
            return
        if not isinstance(args, dict):
            self._send_error(request_id, AgentError('BadArguments', '"args" must be a JSON object'))
            return
        with self._lock:
            if self._closed:
                return
            if request_id in self._requests:
                self._send_error(
                    request_id, AgentError('BadMessage', 'request id %r is already running' % (request_id,))
                )
                return
            ctx = RequestContext(request_id, cmd, args, self, self.scope.child('request %r' % (request_id,)))
            self._requests[request_id] = ctx
        t = threading.Thread(
            target=self._run, args=(ctx,), name='spyglass-req-%d-%d' % (self.number, next(_request_numbers))
        )
        t.daemon = True
        t.start()

    def _run(self, ctx):
        hooks.unobserved_thread()  # user code it runs is marked: hooks.observed()
        end = None
        try:
            data = commands.find(ctx.cmd)(ctx)
            end = {'id': ctx.id, 'end': True}
            if data is not None:
                end['data'] = data
            if ctx.cancelled:
                end['cancelled'] = True
            if ctx.dropped:
                end['dropped'] = ctx.dropped
        except AgentError as e:
            end = {'id': ctx.id, 'error': e.to_json()}
        except BaseException as e:
            log.error('command %s failed: %s' % (ctx.cmd, traceback.format_exc()))
            end = {
                'id': ctx.id,
                'error': {
                    'type': 'InternalError',
                    'message': '%s: %s' % (type(e).__name__, e),
                    'detail': traceback.format_exc(limit=20),
                },
            }
        finally:
            ctx.done.set()
            ctx.owner.close()
            with self._lock:
                self._requests.pop(ctx.id, None)
            if end is not None and not self.outbox.put_control(end, ctx._after_end):
                for fn in ctx._after_end:
                    _call_quietly(fn)

    def cancel_requests(self, keep=None):
        """Cancels every running request but ``keep``; returns how many."""
        with self._lock:
            running = [c for c in self._requests.values() if c is not keep]
        for ctx in running:
            ctx.cancel()
            ctx.owner.close()
        return len(running)

    def _send_error(self, request_id, error):
        message = {'error': error.to_json()}
        if request_id is not None:
            message['id'] = request_id
        self.outbox.put_control(message)

    # -- writing -------------------------------------------------------------------
    def _write_loop(self):
        hooks.unobserved_thread()
        try:
            while True:
                # all that waits goes in one send: each send lets go of the GIL, and taking it
                # back from a busy application thread can take a whole switch interval
                batch = self.outbox.get_all()
                if not batch:
                    break
                self.sock.sendall(b''.join(protocol.encode(message) for message, _ in batch))
                for _, after in batch:
                    for fn in after or ():
                        _call_quietly(fn)
        except OSError:
            pass  # the client went away; the reader sees it too
        except Exception:
            log.error('writer crashed: %s' % traceback.format_exc())
        finally:
            self.outbox.close()
            try:
                # wakes the reader if it is still blocked in recv
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- ending --------------------------------------------------------------------
    def _release(self):
        """Stops the client's requests and removes everything it owns (idempotent)."""
        with self._lock:
            if self._closed:
                return False
            self._closed = True
        self.agent.forget(self)
        self.cancel_requests()
        self.scope.close()
        return True

    def close(self, drain=True):
        """Removes everything the client owns, then lets the writer flush and end."""
        self._release()
        with self._lock:
            if self._ended:
                return
            self._ended = True
        self.outbox.close(drain=drain)
        if threading.current_thread() is not self._writer:
            self._writer.join(5)
        try:
            self.sock.close()
        except OSError:
            pass
        log.info('client %d gone' % self.number)


def _valid_id(request_id):
    return isinstance(request_id, (int, str)) and not isinstance(request_id, bool)


def _call_quietly(fn):
    try:
        fn()
    except Exception:
        log.error('after-end callback failed: %s' % traceback.format_exc())
