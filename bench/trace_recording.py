"""What trace's recording alone costs a request, to compare two versions of the agent
exactly: test/targets/observe_bench.py's handle_request (or handle_request_async, awaited
on an asyncio loop), its database wait set to 0, called REPS x 300 times on this thread
under a trace hook as the trace command installs it (no tree built or shipped).

Run it under callgrind twice (REPS=1 and REPS=3): the difference in instructions over
600 requests is the per-request figure, free of the machine's load (BENCHMARKS.md,
"watch / trace"):

  INTERVAL_MS=1000 REPS=3 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
      python3.11 bench/trace_recording.py AGENT_DIR [async]

AGENT_DIR: a checkout's agent/spyglass_agent ("none": no hook at all). The tracer is found
where that checkout keeps it (commands/trace/tracer.py, or tracer.py before the move).
"""

import asyncio
import importlib
import importlib.util
import inspect
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'test', 'targets'))
import observe_bench  # noqa: E402

PER_REP = 300


def load_agent(package_dir):
    name = '_spyglass_agent_bench'
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(package_dir, '__init__.py'), submodule_search_locations=[package_dir]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    moved = os.path.exists(os.path.join(package_dir, 'commands', 'trace', 'tracer.py'))
    return (
        importlib.import_module(name + '.hooks'),
        importlib.import_module(name + '.scope'),
        importlib.import_module(name + ('.commands.trace.tracer' if moved else '.tracer')),
    )


def hook(package_dir, fn, stepwise):
    hooks, scope, tracer = load_agent(os.path.abspath(package_dir))
    # INTERVAL_MS: trace's -i. Under callgrind the program runs ~50x slower, so at the
    # default 0.1 ms nearly every call lasts long enough to be kept, unlike natively, where
    # only the root of this ~60 us request is: 1000 (only the root kept) and 0 (every call
    # kept) make the same decisions under callgrind as natively, and bound the real cost
    recorder = tracer.make_tracer(float(os.environ.get('INTERVAL_MS', '0.1')) / 1000.0)
    steps = dict(
        on_resume=lambda rec: rec and recorder.resume(rec),
        on_suspend=lambda rec: rec and recorder.pause(rec),
    )

    def on_exit(rec, value, exc, cost):
        if rec is not None:
            recorder.end(rec)

    if 'with_code' in inspect.signature(hooks.install).parameters:
        # the hook tells on_enter the code the call runs (docs/trace-internals.md §6)
        def on_enter(args, kwargs, code):
            return recorder.begin((code,), suspended=stepwise)

        hooks.install(scope.Scope('bench'), fn, on_enter, on_exit, with_code=True, **steps)
        return
    sites = []  # an older agent: the code is the hook site's, known once install returned

    def on_enter_old(args, kwargs):
        return recorder.begin(tuple(s.code for s in sites), suspended=stepwise)

    handle = hooks.install(scope.Scope('bench'), fn, on_enter_old, on_exit, **steps)
    sites.extend(site for site, _ in handle._sites)


def main():
    package_dir = sys.argv[1]
    stepwise = 'async' in sys.argv[2:]
    fn = observe_bench.handle_request_async if stepwise else observe_bench.handle_request
    observe_bench.DB_SECONDS = 0
    if package_dir != 'none':
        hook(package_dir, fn, stepwise)
    requests = observe_bench.REQUESTS
    loop = asyncio.new_event_loop()

    async def serve(n):
        for i in range(n):
            await fn(requests[i % len(requests)])

    best = None
    for _ in range(int(os.environ.get('REPS', '25'))):
        c0 = time.process_time()
        if stepwise:
            loop.run_until_complete(serve(PER_REP))
        else:
            for i in range(PER_REP):
                fn(requests[i % len(requests)])
        per_request = (time.process_time() - c0) / PER_REP * 1e6
        best = per_request if best is None else min(best, per_request)
    print('%s %s: %.1f us of CPU per request (best of the reps)' % (package_dir, 'async' if stepwise else 'sync', best))


if __name__ == '__main__':
    main()
