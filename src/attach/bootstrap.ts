// The Python source the injector runs inside the target (PyRun_SimpleString on 3.8-3.13,
// a PEP 768 script file on 3.14). It is one expression statement, so it binds no name in
// `__main__` (where PyRun_SimpleString runs it): the real work is exec'd in a fresh dict.
// That code:
// - reuses the agent in `sys._spyglass_agent` when one is alive (attaching twice);
// - otherwise loads agent/spyglass_agent by path as the private package `_spyglass_agent`
//   and starts it on the socket path the client chose (see src/channel/socket-path.ts);
// - catches BaseException: nothing escapes into PyRun_SimpleString (a pending call that
//   fails surfaces as SystemError in the target's main thread) and nothing is printed;
//   a failure is written to bootstrap.err beside the socket (atomically), for the client
//   to report;
// - returns soon: on the borrowed thread it only starts a raw thread (_thread, which
//   takes no lock of threading's) that loads and starts the agent, and waits for it
//   without the GIL for at most LOAD_WAIT_S. The borrowed thread
//   stopped at an arbitrary bytecode and may hold threading's _active_limbo_lock (inside
//   Thread.start or enumerate) or an import lock; starting the agent's threads right there
//   deadlocked the target's main thread for good. The loader waits for such a lock like
//   any other thread; the agent never calls current_thread() on it (that would leave a
//   dummy thread behind). A target that has not imported threading yet gets it imported
//   on the borrowed (main) thread first: the thread that imports it is taken for the main
//   thread, and a loader in that role broke the target's exit (threading._shutdown);
// - may run twice (attach follows a pending call with a direct one when the main thread
//   blocks first): sys._spyglass_bootstrapping, set until the load ends, makes a second
//   run return at once, and a later run finds the running agent in sys._spyglass_agent.
import { join } from 'node:path';
import { AGENT_DIR } from '../paths.js';

export interface BootstrapOptions {
  /** where the agent must listen: agentSocketPath(uid, pid) */
  socketPath: string;
  /** the directory holding spyglass_agent/ (default: the installed agent) */
  agentDir?: string;
}

/** The package is registered in sys.modules because its modules import each other
 * relatively, which needs the parent package there; the name is private (leading
 * underscore, on no sys.path) so it cannot shadow or collide with a module of the target. */
const PACKAGE_NAME = '_spyglass_agent';

/** How long the borrowed thread waits for the loader: the usual load on a busy target, not
 * much longer (it may hold a lock the loader needs, which then waits this long). */
const LOAD_WAIT_S = 0.3;

function pythonBody(pkgDir: string, socketPath: string): string {
  const s = JSON.stringify; // a JSON string literal is a valid Python string literal
  return `def _spyglass_bootstrap(pkg_dir, socket_path):
    # on the borrowed thread, at any bytecode boundary of the target's: it may hold any
    # lock (threading's own, an import's), so start one raw thread and return
    import sys
    # attach may run this twice (a pending call, then a direct one): while a load is
    # under way a second run does nothing
    if getattr(sys, '_spyglass_bootstrapping', False):
        return
    sys._spyglass_bootstrapping = True
    try:
        if 'threading' not in sys.modules:
            # threading takes the thread that first imports it for the main thread (up to
            # 3.12): it must be this one (the main thread), not the loader
            import threading
        import _thread
        done = _thread.allocate_lock()
        done.acquire()
        _thread.start_new_thread(_spyglass_load, (pkg_dir, socket_path, done))
    except BaseException:
        del sys._spyglass_bootstrapping
        _spyglass_failed(socket_path)
        return
    # waiting here, without the GIL, lets the load run at full speed (on a busy target it
    # would share the GIL with this thread); bounded, as this thread may hold what it needs
    done.acquire(timeout=${LOAD_WAIT_S})
def _spyglass_load(pkg_dir, socket_path, done):
    import sys
    # each file the import reads hands the GIL to the target's busy threads, and taking
    # it back waits a whole switch interval (5 ms): a short one while loading, restored after
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, 0.0002))
    try:
        agent = getattr(sys, '_spyglass_agent', None)
        if agent is None or not agent.alive():
            name = ${s(PACKAGE_NAME)}
            init = pkg_dir + '/__init__.py'
            pkg = sys.modules.get(name)
            if pkg is None or getattr(pkg, '__file__', None) != init:
                import importlib.util
                for m in [m for m in sys.modules if m == name or m.startswith(name + '.')]:
                    del sys.modules[m]
                spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[pkg_dir])
                pkg = importlib.util.module_from_spec(spec)
                sys.modules[name] = pkg
                try:
                    spec.loader.exec_module(pkg)
                except BaseException:
                    del sys.modules[name]
                    raise
            pkg.start(socket_path)
    except BaseException:
        _spyglass_failed(socket_path)
    finally:
        sys.setswitchinterval(interval)
        del sys._spyglass_bootstrapping
        done.release()
def _spyglass_failed(socket_path):
    try:
        import os, stat, traceback
        d = os.path.dirname(socket_path)
        st = os.lstat(d)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid():
            # written aside and renamed: the client never reads a half-written file
            fd = os.open(d + '/bootstrap.err.part', os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            os.write(fd, traceback.format_exc().encode('utf-8', 'replace'))
            os.close(fd)
            os.rename(d + '/bootstrap.err.part', d + '/bootstrap.err')
    except BaseException:
        pass
_spyglass_bootstrap(${s(pkgDir)}, ${s(socketPath)})
`;
}

/** Python source to run in the target; see the file comment. Under 4 KiB (one page). */
export function bootstrapSource(opts: BootstrapOptions): string {
  const pkgDir = join(opts.agentDir ?? AGENT_DIR, 'spyglass_agent');
  const body = pythonBody(pkgDir, opts.socketPath);
  return `exec(${JSON.stringify(body)}, {'__name__': '_spyglass_bootstrap'})\n`;
}
