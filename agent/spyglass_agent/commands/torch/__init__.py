"""`torch`: PyTorch's own profilers, run inside the target, their files sent back.

- ``profile`` (module/cls/method/nested): torch.profiler around the NEXT call of that
  method (CPU, and CUDA when available), exported as a Chrome trace.
- ``memory`` with ``snapshot``: torch.cuda.memory._dump_snapshot now (CUDA only).
- ``memory`` with ``record`` (module/cls/method/nested): allocation history recorded
  during the next call of that method, then dumped as a snapshot (CUDA only).

The next call is caught with the shared hook engine (hooks.py); only the first call that
enters after the hook is installed is profiled (others, on other threads meanwhile, run
unobserved), and the hook is removed as soon as that call returns. The profiler starts
and stops on the calling thread, in the hook, as `with torch.profiler.profile()` around
the call would. The file is written to a private temporary directory in the target,
streamed back (file_transfer.py) and deleted.

torch is never imported here: it must already be in sys.modules, else the command says
so. Events: ``started`` {method, file, line, activities} (for the methods), then
``file_chunk``s; end data: {kind, bytes, sha256, method?, cost_ms?, thread?, torch}.
"""

import os
import shutil
import sys
import tempfile
import threading

from ... import observe
from . import file_transfer
from ...errors import AgentError, bad_args
from ...threadnames import thread_name

NAME = 'torch'

_WAIT_STEP = 0.05


def _feature(ctx, action):
    """The reference tool's name of what was asked ("torch memory snapshot"), which its
    "... is not enabled" refusals start with (scripts look for those words)."""
    if action != 'memory':
        return 'torch profile'
    return 'torch memory snapshot' if ctx.arg('snapshot', bool, False) else 'torch memory record'


def _torch(feature):
    torch = sys.modules.get('torch')
    if torch is None:
        raise AgentError(
            'TorchNotImported',
            '%s is not enabled: torch is not imported in the target process' % feature,
            hint='spyglass never imports torch into a process itself; these commands work once the '
            'application has imported it',
        )
    return torch


def _api(torch, dotted, needed_for):
    """torch.<dotted> (already loaded: nothing is imported), or a clear error naming the version."""
    obj = torch
    for part in dotted.split('.'):
        obj = getattr(obj, part, None)
        if obj is None:
            raise AgentError(
                'TorchApiMissing',
                'torch %s has no torch.%s, which %s needs' % (getattr(torch, '__version__', '?'), dotted, needed_for),
                hint='torch.profiler needs torch >= 1.8.1; CUDA memory snapshots need torch >= 2.0',
            )
    return obj


def _require_cuda(torch, what, feature):
    cuda = _api(torch, 'cuda.is_available', what)
    if not cuda():
        raise AgentError(
            'CudaUnavailable',
            '%s is not enabled: CUDA is not available in the target (torch %s), and it is about CUDA memory'
            % (feature, torch.__version__),
            hint='`torch profile` works on CPU-only processes',
        )


def _start_history(memory):
    """Allocation history on; torch 2.0 spells it with other keywords than 2.1+."""
    record = memory._record_memory_history
    try:
        record(max_entries=100000)
    except TypeError:
        record(enabled=True, trace_alloc_max_entries=100000, trace_alloc_record_context=True)


def _stop_history(memory):
    try:
        memory._record_memory_history(enabled=None)
    except TypeError:
        memory._record_memory_history(enabled=False)


class _NextCall(object):
    """Runs start() as the next call of a hooked method begins and finish(state, ...) as it
    ends, once; the command's thread waits for it with wait()."""

    def __init__(self, start, finish):
        self._start = start
        self._finish = finish
        self._lock = threading.Lock()
        self._taken = False
        self.done = threading.Event()
        self.result = None
        self.error = None

    def on_enter(self, args, kwargs):
        with self._lock:
            if self._taken:
                return None
            self._taken = True
        try:
            return (self._start(),)
        except Exception as e:  # torch refused to start: the call itself goes on
            self.error = observe.error_text(e)
            self.done.set()
            return None

    def on_exit(self, token, value, exc, cost):
        if token is None:
            return
        try:
            self.result = (self._finish(token[0]), cost, thread_name())
        except Exception as e:
            self.error = observe.error_text(e)
        self.done.set()

    def wait(self, ctx):
        """True once the call was observed; False when the request ended first."""
        while not self.done.wait(_WAIT_STEP):
            if ctx.done.is_set():
                return False
        return True


def _on_next_call(ctx, torch, start, finish, export, activities=None):
    """Hooks the method the request names, runs start/finish around its next call, then
    export(finish's result, path) writes the file that is sent back."""
    target = observe.resolve(ctx)
    catcher = _NextCall(start, finish)
    handle = target.install(ctx, catcher.on_enter, catcher.on_exit)
    started = dict(target.location(), method=target.label)
    if activities is not None:
        started['activities'] = activities
    ctx.emit('started', started)
    if not catcher.wait(ctx):
        return {'cancelled': True, 'method': target.label}
    handle.remove()
    if catcher.error is not None:
        raise AgentError('TorchFailed', '%s: torch failed: %s' % (target.label, catcher.error))
    state, cost, thread = catcher.result
    out = _send(ctx, torch, lambda path: export(state, path))
    out.update(method=target.label, cost_ms=cost * 1000.0, thread=thread)
    return out


def _send(ctx, torch, write):
    """write(path) into a private temporary directory, the file streamed back, deleted."""
    tmp = tempfile.mkdtemp(prefix='spyglass-torch-')
    try:
        path = os.path.join(tmp, 'out')
        write(path)
        out = file_transfer.send_file(ctx, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out['torch'] = torch.__version__
    return out


def _profile(ctx, torch):
    profiler = _api(torch, 'profiler', 'torch profile')
    kinds = profiler.ProfilerActivity
    activities = [kinds.CPU]
    if _api(torch, 'cuda.is_available', 'torch profile')():
        activities.append(kinds.CUDA)

    def start():
        prof = profiler.profile(activities=activities, record_shapes=True)
        prof.__enter__()
        return prof

    def finish(prof):
        prof.__exit__(None, None, None)
        return prof

    out = _on_next_call(
        ctx,
        torch,
        start,
        finish,
        lambda prof, path: prof.export_chrome_trace(path),
        activities=[str(a).split('.')[-1] for a in activities],
    )
    out['kind'] = 'trace'
    return out


def _memory(ctx, torch):
    snapshot = bool(ctx.arg('snapshot', bool, False))
    record = bool(ctx.arg('record', bool, False))
    if snapshot == record:
        raise bad_args('torch memory: give one of -s (snapshot now) or -r module [class] method (record a call)')
    what = 'torch memory -s' if snapshot else 'torch memory -r'
    _require_cuda(torch, what, _feature(ctx, 'memory'))
    memory = _api(torch, 'cuda.memory', what)
    _api(torch, 'cuda.memory._dump_snapshot', what)
    if snapshot:
        out = _send(ctx, torch, memory._dump_snapshot)
    else:
        _api(torch, 'cuda.memory._record_memory_history', what)
        # made here and removed here: a call that ends after the command gave up finds
        # the directory gone, and its dump fails instead of leaving a file behind
        tmp = tempfile.mkdtemp(prefix='spyglass-torch-rec-')
        recorded = os.path.join(tmp, 'snapshot.pickle')

        def finish(_):
            # dumped before recording stops: the history is part of the snapshot
            try:
                memory._dump_snapshot(recorded)
            finally:
                _stop_history(memory)

        try:
            out = _on_next_call(
                ctx, torch, lambda: _start_history(memory), finish, lambda _, path: shutil.move(recorded, path)
            )
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    out['kind'] = 'memory_snapshot'
    return out


def run(ctx):
    action = ctx.arg('action', str, required=True)
    torch = _torch(_feature(ctx, action))
    if action == 'profile':
        return _profile(ctx, torch)
    if action == 'memory':
        return _memory(ctx, torch)
    raise bad_args('torch: unknown action %r' % action, hint='torch profile | torch memory')
