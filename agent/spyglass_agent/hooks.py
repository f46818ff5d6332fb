"""The hook engine shared by every observation command (watch, trace, tt, monitor, torch).

A hook observes the calls of one Python function. It is installed by swapping the
function object's ``__code__`` for a *wrapper* code object with the same signature, so
every existing reference (``from m import f``, bound methods, callbacks kept in lists)
sees it; it is removed by assigning the original code object back (same identity).

The wrapper is generated from source for each signature:

    def f(a, b=1, *args, c, **kw):
        _spyglass_a, _spyglass_k = (a, b, *args), {'c': c, **kw}
        _spyglass_f, _spyglass_s = "<site>".enter(_spyglass_a, _spyglass_k, <cells>)
        ... _spyglass_f(*_spyglass_a, **_spyglass_k) ... "<site>".exit(_spyglass_s, ...)

and the placeholder string constant is then replaced, in ``co_consts``, by the *site*
object that runs the callbacks and hands back the original code's function. Its
dependencies therefore travel as a constant: nothing is written into the target module's
globals (the reference tool writes helper names into them), and no bytecode is
rewritten, so the trick works unchanged on 3.8-3.14. Coroutine and generator functions get an ``async def`` /
generator wrapper so ``inspect.iscoroutinefunction`` and friends keep their answer.

The plain wrapper calls that function itself: a hooked call is two frames deep (the
wrapper's and the original's), so a hooked recursive function reaches the interpreter's
recursion limit at half the depth it reaches unhooked. A wrapper that called through the
site would need four, and a recursion 300 deep, well within the limit, would raise
RecursionError into the target as soon as it is watched.

A function with a closure must keep its free variables: the wrapper declares the same
free variables and hands a ``lambda`` that captures them to the site, whose
``__closure__`` holds the function's real cells, in order; the original code then runs in
a function object built over those very cells, so ``nonlocal`` writes land where they
always did. The same wrapper serves every closure made from one code object, which is
what nested functions (``outer.inner``) need: the outer function's code gets the wrapper
in place of the nested code in its constants, and live closures are swapped too.

Several hooks (from several clients) on one function share one site and compose; they
can be removed in any order, and the original code returns when the last one goes.

``reload`` gives a hooked function new code with ``replace_code``: the hooks move to a new
site (and wrapper, for the new signature) while calls already inside the old wrapper
finish on the old site with the code they started with; removing a hook later takes it
from both.
Callbacks never raise into the target, and calls made by a callback on the same thread
(a ``__repr__`` that is itself hooked) are not observed again.
"""

import contextlib
import gc
import os
import threading
import time
import types
import weakref

from . import log
from .errors import AgentError

CO_GENERATOR = 0x20
CO_COROUTINE = 0x80
CO_ITERABLE_COROUTINE = 0x100
CO_ASYNC_GENERATOR = 0x200
CO_VARARGS = 0x04
CO_VARKEYWORDS = 0x08

_PLACEHOLDER = '__spyglass_site__'
WRAPPER_FILENAME = '<spyglass hook>'
# the agent's own package: frames in it are the agent's, never the user's
AGENT_DIR = os.path.dirname(os.path.abspath(__file__))

_lock = threading.RLock()
_patches = {}  # id(function) -> _FunctionPatch, while any hook is on it or its nested functions
_guard = threading.local()
_clock = time.perf_counter


class Hook(object):
    """One observer of one function: ``on_enter(args, kwargs) -> token`` before the call,
    ``on_exit(token, value, exc, cost)`` after it (exc is None on return; cost in seconds).
    With ``with_code``, ``on_enter(args, kwargs, code)`` is also told the code object this
    very call runs (trace records from that frame on)."""

    __slots__ = ('on_enter', 'on_exit', 'errors', 'on_resume', 'on_suspend', 'with_code', '__weakref__')

    def __init__(self, on_enter, on_exit, on_resume=None, on_suspend=None, with_code=False):
        self.on_enter = on_enter
        self.on_exit = on_exit
        self.errors = 0
        # the code must come from the call itself: the site's copy is replaced whenever
        # another hook on the function comes or goes, and a call may start before install
        # has returned (docs/trace-internals.md §6)
        self.with_code = with_code
        # optional, for async def and generator functions: on_resume(token) before each
        # step of the call runs on a thread, on_suspend(token) when it yields (trace)
        self.on_resume = on_resume
        self.on_suspend = on_suspend


def _in_callback():
    return getattr(_guard, 'active', False)


def unobserved_thread():
    """Marks the calling thread as the agent's own (accept, read, send, requests): no hook
    observes what it calls. The protocol encodes every message with json.dumps, so a user
    watching json.dumps would otherwise see the agent's calls, each of which, shown, is
    encoded again; rendering a value calls its __repr__, which a user may be watching."""
    _guard.active = True


@contextlib.contextmanager
def observed():
    """Within it the calling thread's calls are observed like the target's: the user's own
    code that a request runs (an eval, a -e expression)."""
    was = _in_callback()
    _guard.active = False
    try:
        yield
    finally:
        _guard.active = was


def _enter(hooks, args, kwargs, fn):
    tokens = []
    _guard.active = True
    try:
        for h in hooks:
            try:
                tokens.append(h.on_enter(args, kwargs, fn.__code__) if h.with_code else h.on_enter(args, kwargs))
            except BaseException as e:
                if isinstance(e, KeyboardInterrupt):
                    raise  # the target's own Ctrl-C, delivered while we ran
                h.errors += 1
                tokens.append(None)
                log.error('hook on_enter failed: %r' % (e,))
    finally:
        _guard.active = False
    return tokens


def _exit(hooks, tokens, value, exc, cost):
    _guard.active = True
    try:
        for h, token in zip(reversed(hooks), reversed(tokens)):
            try:
                h.on_exit(token, value, exc, cost)
            except BaseException as e:
                if isinstance(e, KeyboardInterrupt):
                    raise
                h.errors += 1
                log.error('hook on_exit failed: %r' % (e,))
    finally:
        _guard.active = False


def _begin(hooks, args, kwargs, fn):
    """Tells each hook that fn(*args, **kwargs) is about to run; returns the state _end
    needs, or None when the call is not observed (no hook, or the caller is a hook)."""
    if not hooks or _in_callback():
        return None
    tokens = _enter(hooks, args, kwargs, fn)
    return hooks, tokens, _clock()


def _end(state, value, exc):
    hooks, tokens, start = state
    _exit(hooks, tokens, value, exc, _clock() - start)


def _call_observed(hooks, fn, args, kwargs):
    """fn(*args, **kwargs) with each hook told of the call before and after it."""
    state = _begin(hooks, args, kwargs, fn)
    if state is None:
        return fn(*args, **kwargs)
    try:
        value = fn(*args, **kwargs)
    except BaseException as e:
        _end(state, None, e)
        raise
    _end(state, value, None)
    return value


class _Site(object):
    """Where a wrapper lands: the hooks of one code object and how to run the original."""

    def __init__(self, code, globals_, name):
        self.hooks = ()
        self.globals = globals_
        self.name = name
        # the site that took over this one's hooks when the function was reloaded
        self.successor = None
        self.wrapper, self._cell_order = _build_wrapper(code, self)
        self.set_code(code)

    def latest(self):
        site = self
        while site.successor is not None:
            site = site.successor
        return site

    def set_code(self, code):
        """The code the original behaviour runs (the original, or a copy whose nested
        functions are hooked).

        The site runs a private copy of it (equal, not identical): the target's live
        closures of a nested function are found by ``__code__ is code`` (swap_live), and
        that search must never find the function the site itself runs, or it would be
        given the wrapper and call itself until the target dies of RecursionError."""
        code = code.replace()
        self.code = code
        self._plain = None if code.co_freevars else types.FunctionType(code, self.globals, self.name)

    def _target(self, cells):
        if cells is None:
            return self._plain
        closure = cells.__closure__
        return types.FunctionType(self.code, self.globals, self.name, None, tuple(closure[i] for i in self._cell_order))

    def enter(self, args, kwargs, cells):
        """(the function to call, the state for exit or None): the plain wrapper's first
        step; it makes the call itself (see the module's docstring)."""
        fn = self._target(cells)
        return fn, _begin(self.hooks, args, kwargs, fn)

    def exit(self, state, value, exc):
        _end(state, value, exc)

    async def call_async(self, args, kwargs, cells):
        fn = self._target(cells)
        hooks = self.hooks
        if not hooks or _in_callback():
            return await fn(*args, **kwargs)
        tokens = _enter(hooks, args, kwargs, fn)
        start = _clock()
        try:
            value = await _stepwise(fn(*args, **kwargs), hooks, tokens)
        except BaseException as e:
            _exit(hooks, tokens, None, e, _clock() - start)
            raise
        _exit(hooks, tokens, value, None, _clock() - start)
        return value

    def call_gen(self, args, kwargs, cells):
        # the call is observed from the first next() to exhaustion; value is the
        # generator's return value (what `yield from` evaluates to)
        fn = self._target(cells)
        hooks = self.hooks
        if not hooks or _in_callback():
            return (yield from fn(*args, **kwargs))
        tokens = _enter(hooks, args, kwargs, fn)
        start = _clock()
        try:
            value = yield from _stepwise(fn(*args, **kwargs), hooks, tokens)
        except BaseException as e:
            _exit(hooks, tokens, None, e, _clock() - start)
            raise
        _exit(hooks, tokens, value, None, _clock() - start)
        return value


# ---- stepping async and generator calls (added for trace: see Hook.on_resume) ----


def _stepwise(it, hooks, tokens):
    """``it`` itself when no hook steps it; else a driver that runs it one step at a time
    and tells those hooks when each step starts and ends on the thread running it."""
    steppers = [(h, t) for h, t in zip(hooks, tokens) if h.on_resume is not None]
    if not steppers:
        return it
    return _drive(it, steppers)


def _step_notify(steppers, name):
    was = _in_callback()  # an agent thread may be the one stepping the call
    _guard.active = True
    try:
        for h, token in steppers:
            try:
                getattr(h, name)(token)
            except Exception as e:
                h.errors += 1
                log.error('hook %s failed: %r' % (name, e))
    finally:
        _guard.active = was


@types.coroutine
def _drive(it, steppers):
    # what `yield from it` does (PEP 380), with a notification around each step
    value, error = None, None
    while True:
        _step_notify(steppers, 'on_resume')
        try:
            if error is None:
                out = it.send(value)
            else:
                out = it.throw(error)
        except StopIteration as e:
            _step_notify(steppers, 'on_suspend')
            return e.value
        except BaseException:
            _step_notify(steppers, 'on_suspend')
            raise
        _step_notify(steppers, 'on_suspend')
        try:
            value, error = (yield out), None
        except GeneratorExit:
            it.close()
            raise
        except BaseException as e:
            value, error = None, e


def _signature_source(code):
    """(parameter list, positional-args tuple, keyword-args dict) as source text."""
    names = code.co_varnames
    argc = code.co_argcount
    posonly = getattr(code, 'co_posonlyargcount', 0)
    kwonly = code.co_kwonlyargcount
    positional = list(names[:argc])
    keyword = list(names[argc : argc + kwonly])
    i = argc + kwonly
    varargs = varkw = None
    if code.co_flags & CO_VARARGS:
        varargs = names[i]
        i += 1
    if code.co_flags & CO_VARKEYWORDS:
        varkw = names[i]
    params = list(positional)
    if posonly:
        params.insert(posonly, '/')
    if varargs:
        params.append('*' + varargs)
    elif keyword:
        params.append('*')
    params.extend(keyword)
    if varkw:
        params.append('**' + varkw)
    pos_items = positional + (['*' + varargs] if varargs else [])
    pos_src = '(%s,)' % ', '.join(pos_items) if pos_items else '()'
    kw_items = ['%r: %s' % (k, k) for k in keyword] + (['**' + varkw] if varkw else [])
    return ', '.join(params), pos_src, '{%s}' % ', '.join(kw_items)


def _build_wrapper(code, site):
    """Compiles the wrapper for code's signature; returns (wrapper code, cell order)."""
    flags = code.co_flags
    if flags & CO_ASYNC_GENERATOR:
        raise AgentError('NotHookable', 'async generator functions cannot be hooked yet: %s' % code.co_name)
    params, pos_src, kw_src = _signature_source(code)
    free = code.co_freevars
    cells_src = 'lambda: (%s,)' % ', '.join(free) if free else 'None'
    call = '(%r).%%s(%s, %s, %s)' % (_PLACEHOLDER, pos_src, kw_src, cells_src)
    if flags & CO_COROUTINE:
        body = 'async def _spyglass_wrapper(%s):\n        return await %s' % (params, call % 'call_async')
    elif flags & (CO_GENERATOR | CO_ITERABLE_COROUTINE):
        body = 'def _spyglass_wrapper(%s):\n        return (yield from %s)' % (params, call % 'call_gen')
    else:
        body = _PLAIN_BODY.format(
            params=params, pos=pos_src, kw=kw_src, cells=cells_src, site=repr(_PLACEHOLDER), v=_local_prefix(code)
        )
    # the outer function only exists to make the original's free variables free in the
    # wrapper too (its code must have as many as the function has closure cells)
    source = 'def _spyglass_outer():\n    %s\n    %s\n' % (' = '.join(free) + ' = None' if free else 'pass', body)
    module = compile(source, WRAPPER_FILENAME, 'exec', dont_inherit=True)
    outer = _const_code(module, '_spyglass_outer')
    wrapper = _const_code(outer, '_spyglass_wrapper')
    if len(wrapper.co_freevars) != len(free):
        raise AgentError('NotHookable', 'cannot mirror the closure of %s' % code.co_name)
    consts = tuple(site if type(c) is str and c == _PLACEHOLDER else c for c in wrapper.co_consts)
    changes = {'co_consts': consts, 'co_name': code.co_name}
    if hasattr(code, 'co_qualname'):
        changes['co_qualname'] = code.co_qualname
    if flags & CO_ITERABLE_COROUTINE:
        changes['co_flags'] = wrapper.co_flags | CO_ITERABLE_COROUTINE
    wrapper = wrapper.replace(**changes)
    order = ()
    if free:
        # the lambda captures the wrapper's cells in its own order; map them back to
        # the order the original code expects (the function's __closure__ order)
        lam = _const_code(wrapper, '<lambda>')
        order = tuple(lam.co_freevars.index(name) for name in wrapper.co_freevars)
    return wrapper, order


# the plain wrapper: the site's enter and exit around the call it makes itself; {v} is a
# prefix of local names that none of the function's own names starts with
_PLAIN_BODY = """def _spyglass_wrapper({params}):
        {v}a, {v}k = {pos}, {kw}
        {v}f, {v}s = {site}.enter({v}a, {v}k, {cells})
        if {v}s is None:
            return {v}f(*{v}a, **{v}k)
        try:
            {v}r = {v}f(*{v}a, **{v}k)
        except BaseException as {v}e:
            {site}.exit({v}s, None, {v}e)
            raise
        {site}.exit({v}s, {v}r, None)
        return {v}r"""


def _local_prefix(code):
    prefix = '_spyglass_'
    own = code.co_varnames + code.co_freevars
    while any(n.startswith(prefix) for n in own):
        prefix += '_'
    return prefix


def nested_codes(code, name):
    """The code objects of the functions named ``name`` that ``code``'s body defines."""
    return [c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == name]


def _const_code(code, name):
    codes = nested_codes(code, name)
    if not codes:
        raise AssertionError('no code object %s in %s' % (name, code.co_name))
    return codes[0]


def is_wrapper(code):
    return isinstance(code, types.CodeType) and code.co_filename == WRAPPER_FILENAME


class _NestedPatch(object):
    """Hooks on the functions made from one nested code object of a patched function."""

    def __init__(self, outer, code):
        self.code = code
        self.site = _Site(code, outer.__globals__, code.co_name)
        self.swapped = []  # weakrefs to live closures whose __code__ we replaced

    def swap_live(self):
        for ref in gc.get_referrers(self.code):
            if isinstance(ref, types.FunctionType) and ref.__code__ is self.code:
                ref.__code__ = self.site.wrapper
                self.swapped.append(weakref.ref(ref))

    def restore_live(self):
        # closures made while hooked carry the wrapper too: find them all
        for ref in gc.get_referrers(self.site.wrapper):
            if isinstance(ref, types.FunctionType) and ref.__code__ is self.site.wrapper:
                ref.__code__ = self.code
        self.swapped = []


class _FunctionPatch(object):
    def __init__(self, fn):
        self.fn = fn
        self.orig_code = fn.__code__
        self.current = self.orig_code
        self.site = None  # created on the first hook on fn itself
        self.nested = {}  # name -> [_NestedPatch] (one per nested code object of that name)

    def empty(self):
        return (self.site is None or not self.site.hooks) and not any(
            p.site.hooks for ps in self.nested.values() for p in ps
        )

    def base_code(self):
        """orig_code with hooked nested code objects replaced by their wrappers."""
        replaced = {}
        for patches in self.nested.values():
            for p in patches:
                if p.site.hooks:
                    replaced[id(p.code)] = p.site.wrapper
        if not replaced:
            return self.orig_code
        return self.orig_code.replace(co_consts=tuple(replaced.get(id(c), c) for c in self.orig_code.co_consts))

    def apply(self):
        """Assigns the code that matches the hooks present now; the original when none."""
        if self.fn.__code__ is not self.current:
            log.error('%s.__code__ was replaced by someone else; leaving it' % self.fn.__qualname__)
            return False
        base = self.base_code()
        if self.site is not None and self.site.hooks:
            self.site.set_code(base)
            code = self.site.wrapper
        else:
            code = base
        if code is not self.current:
            self.fn.__code__ = code
            self.current = code
        return True


class Handle(object):
    """A hook as installed; remove() takes it away (idempotent)."""

    def __init__(self, patch, hook, where, sites):
        self._patch = patch
        self.hook = hook
        self.where = where
        self._sites = sites  # [(site, _NestedPatch or None)]
        self._forget = None
        self.removed = False

    def remove(self):
        with _lock:
            if self.removed:
                return
            self.removed = True
            for first, nested in self._sites:
                site = first
                while site is not None:  # the hook moved along with reloads of the function
                    site.hooks = tuple(h for h in site.hooks if h is not self.hook)
                    site = site.successor
                if nested is not None and not first.hooks:
                    nested.restore_live()
            patch = self._patch
            patch.apply()
            if patch.empty() and _patches.get(id(patch.fn)) is patch:
                del _patches[id(patch.fn)]
        if self._forget is not None:
            self._forget()


def _patch_for(fn):
    patch = _patches.get(id(fn))
    if patch is not None and patch.fn is fn and fn.__code__ is patch.current:
        return patch
    if is_wrapper(fn.__code__):
        raise AgentError('NotHookable', '%s is hooked by an agent this one does not know' % fn.__qualname__)
    patch = _FunctionPatch(fn)
    _patches[id(fn)] = patch
    return patch


def _nested_patches(patch, name):
    patches = patch.nested.get(name)
    if patches is None:
        codes = nested_codes(patch.orig_code, name)
        if not codes:
            raise AgentError(
                'NestedNotFound',
                'no function %s defined inside %s' % (name, patch.fn.__qualname__),
                hint=_nested_hint(patch.orig_code),
            )
        # one hook observes every code object of that name (e.g. defs in two branches)
        patches = patch.nested[name] = [_NestedPatch(patch.fn, c) for c in codes]
    return patches


def install(owner, fn, on_enter, on_exit, nested=None, where=None, on_resume=None, on_suspend=None, with_code=False):
    """Hooks calls of ``fn`` (a Python function object), or of the functions defined inside
    it under the name ``nested``; the hook belongs to ``owner`` (a Scope) and goes when the
    owner is released. Returns a Handle. The hook is live before this returns: a call on
    another thread may reach ``on_enter`` first."""
    if not isinstance(fn, types.FunctionType):
        raise AgentError('NotHookable', '%r is not a Python function' % (fn,))
    hook = Hook(on_enter, on_exit, on_resume, on_suspend, with_code)
    where = where or fn.__qualname__ + ('.' + nested if nested else '')
    with _lock:
        patch = _patch_for(fn)
        sites = []
        handle = Handle(patch, hook, where, sites)
        try:
            if nested is None:
                if patch.site is None:
                    patch.site = _Site(patch.orig_code, fn.__globals__, fn.__name__)
                sites.append((patch.site, None))
            else:
                sites.extend((p.site, p) for p in _nested_patches(patch, nested))
            for site, nested_patch in sites:
                site.hooks = site.hooks + (hook,)
                if nested_patch is not None and len(site.hooks) == 1:
                    nested_patch.swap_live()
            patch.apply()
        except BaseException:
            handle.remove()  # takes back whatever part was done
            raise
    handle._forget = owner.add('hook ' + where, handle.remove)
    return handle


# ---- a built-in function reached through a module attribute -------------------------
#
# A C function has no code object to swap, so its module attribute is replaced by a Python
# wrapper while it is hooked, as the reference tool does: calls that look the attribute up
# (`pickle.loads(b)`) are observed, a reference taken before (`from pickle import loads`)
# is not. The attribute is put back when the last hook goes, unless someone else replaced
# it meanwhile.

_attribute_patches = {}  # (id(module), name) -> _AttributePatch, while hooked


class _AttributePatch(object):
    def __init__(self, module, name, original):
        self.module = module
        self.name = name
        self.original = original
        self.hooks = ()
        self.wrapper = self._build()

    def _build(self):
        original = self.original
        patch = self

        def wrapper(*args, **kwargs):
            # (no hook here asks for the call's code: install_attribute makes none with_code)
            return _call_observed(patch.hooks, original, args, kwargs)

        for attr in ('__module__', '__name__', '__qualname__', '__doc__'):
            try:
                setattr(wrapper, attr, getattr(original, attr))
            except (AttributeError, TypeError):
                pass
        wrapper.__wrapped__ = original
        return wrapper

    def put_back(self):
        """The module's attribute is the original again, unless someone else replaced our
        wrapper meanwhile (theirs is left); returns whether it was put back."""
        if vars(self.module).get(self.name) is not self.wrapper:
            return False
        setattr(self.module, self.name, self.original)
        return True


class _AttributeHandle(object):
    def __init__(self, patch, hook):
        self._patch = patch
        self.hook = hook
        self._forget = None
        self.removed = False

    def remove(self):
        with _lock:
            if self.removed:
                return
            self.removed = True
            patch = self._patch
            patch.hooks = tuple(h for h in patch.hooks if h is not self.hook)
            if not patch.hooks:
                if not patch.put_back():
                    log.error('%s.%s was replaced by someone else; leaving it' % (patch.module.__name__, patch.name))
                _attribute_patches.pop((id(patch.module), patch.name), None)
        if self._forget is not None:
            self._forget()


def install_attribute(owner, module, name, on_enter, on_exit, where):
    """Hooks calls of the built-in function ``module.name`` made through the attribute
    (see above); the hook belongs to ``owner``. Returns a handle with remove()."""
    hook = Hook(on_enter, on_exit)
    with _lock:
        key = (id(module), name)
        patch = _attribute_patches.get(key)
        current = vars(module).get(name)
        if patch is None or current is not patch.wrapper:
            if not callable(current) or isinstance(current, (type, types.FunctionType)):
                raise AgentError('NotHookable', '%s is not a built-in function' % where)
            patch = _attribute_patches[key] = _AttributePatch(module, name, current)
        patch.hooks = patch.hooks + (hook,)
        if vars(module).get(name) is not patch.wrapper:
            setattr(module, name, patch.wrapper)
        handle = _AttributeHandle(patch, hook)
    handle._forget = owner.add('hook ' + where, handle.remove)
    return handle


def original_code(fn):
    """The code fn runs apart from hooks: under a hook ``fn.__code__`` is the wrapper."""
    with _lock:
        patch = _patches.get(id(fn))
        if patch is not None and patch.fn is fn and fn.__code__ is patch.current:
            return patch.orig_code
        return fn.__code__


def replace_code(fn, code):
    """Makes fn run ``code`` from its next call on (``reload``), keeping every hook on it:
    the hooks move to a new site whose wrapper has the new code's signature; a call
    already inside the old wrapper ends on the old code. The caller checked that the new
    code has the same free variables (fn's closure cells are kept)."""
    with _lock:
        patch = _patches.get(id(fn))
        if patch is None or patch.fn is not fn or fn.__code__ is not patch.current:
            if is_wrapper(fn.__code__):
                raise AgentError('NotReloadable', '%s is hooked by an agent this one does not know' % fn.__qualname__)
            fn.__code__ = code
            return False
        if any(p.site.hooks for ps in patch.nested.values() for p in ps):
            raise AgentError(
                'NotReloadable',
                '%s has a -nm hook on a function defined inside it; end that command first' % (fn.__qualname__,),
            )
        old = patch.site
        patch.orig_code = code
        patch.nested = {}
        if old is not None:
            site = _Site(code, fn.__globals__, fn.__name__)
            site.hooks = old.hooks
            old.successor = site
            patch.site = site
        patch.apply()
        return True


def _nested_hint(code):
    names = sorted(
        set(c.co_name for c in code.co_consts if isinstance(c, types.CodeType) and not c.co_name.startswith('<'))
    )
    return 'functions defined inside it: %s' % (', '.join(names) if names else 'none')


def active():
    """[(qualified name, number of hooks)] of every patched function, for diagnostics."""
    with _lock:
        out = []
        for p in _patches.values():
            n = len(p.site.hooks) if p.site is not None else 0
            n += sum(len(np.site.hooks) for ps in p.nested.values() for np in ps[:1])
            out.append((p.fn.__module__ + '.' + p.fn.__qualname__, n))
        for p in _attribute_patches.values():
            out.append((p.module.__name__ + '.' + p.name, len(p.hooks)))
        return out


def _ignore(*args):
    return None


def _silence(hook_list):
    for h in hook_list:
        h.on_enter = h.on_exit = _ignore
        if h.on_resume is not None:
            h.on_resume = h.on_suspend = _ignore


def _forget_in_child():
    """After os.fork(), in the child: the hooks came along, the agent's threads and clients
    did not, and no client will ever remove them there (a worker forked during a watch
    would run the hook on every call for good). Every hook is taken off at once, so the
    child runs the original code; a hooked call under way at the fork (the function that
    forked) ends without telling anyone."""
    global _lock
    # another thread may have held it at the fork: in the child it would stay held
    _lock = threading.RLock()
    for patch in list(_patches.values()):
        nested = [p for ps in patch.nested.values() for p in ps]
        for site in [patch.site] + [p.site for p in nested]:
            while site is not None:
                _silence(site.hooks)
                site.hooks = ()
                site = site.successor
        for p in nested:
            p.restore_live()
        patch.apply()
    _patches.clear()
    for patch in list(_attribute_patches.values()):
        _silence(patch.hooks)
        patch.hooks = ()
        patch.put_back()
    _attribute_patches.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def is_agent_file(filename):
    """Whether code from ``filename`` is the agent's own (its modules or a hook wrapper)."""
    return filename == WRAPPER_FILENAME or filename.startswith(AGENT_DIR + os.sep)
