// trace against test/targets/observe_app.py on every interpreter: the call tree (names,
// file:line, call lines, cost, percent of parent), -i pruning that never orphans a kept
// child, -d, -i 0 -d as the call path, -et, -f on target/args, -n, an async call, only the
// traced thread recorded, and the target's own profiler, tracer and sys.monitoring tool
// working throughout (3.8-3.11 use sys.setprofile on the calling thread, 3.12+
// sys.monitoring with a tool id of spyglass's own). And, on test/targets/first_import.py,
// a first import's bootstrap frames left out of the tree.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { traceCommand, type TraceNode } from '../../src/commands/trace.js';
import { watchCommand } from '../../src/commands/watch.js';
import {
  assertOutputUnchanged,
  assertRestored,
  describeObserved,
  evalRepr,
  events,
  runCommand,
  type Observed,
  waitUntil,
} from '../helpers/observe.js';
import { runCli } from '../helpers/cli.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget, TARGETS_DIR } from '../helpers/targets.js';

const trace = (o: Observed, line: string, opts = {}) => runCommand(traceCommand, o, line, opts);
/** handle is also called under cProfile on 3.8-3.11, where those calls cannot be traced */
const NOT_PROFILED = `-f "args[0]['query']!='profiled'"`;

/** Line numbers of the target's functions and of the lines calling them (the tree shows both). */
const SOURCE = readFileSync(join(TARGETS_DIR, 'observe_app.py'), 'utf8').split('\n');
const lineOf = (text: string) => {
  const i = SOURCE.findIndex((l) => l.includes(text));
  assert.ok(i >= 0, text);
  return i + 1;
};

function allNodes(node: TraceNode): TraceNode[] {
  return [node, ...node.children.flatMap(allNodes)];
}

function child(node: TraceNode, name: string): TraceNode {
  const found = node.children.find((c) => c.name === name);
  assert.ok(found, `${node.name} has no child ${name}: ${node.children.map((c) => c.name).join(', ')}`);
  return found;
}

function depth(node: TraceNode): number {
  return node.children.length ? 1 + Math.max(...node.children.map(depth)) : 0;
}

/** The tree shape every kept node obeys: no child costs more than its parent. */
function assertCostsNest(node: TraceNode): void {
  for (const c of node.children) {
    assert.ok(c.cost_ms <= node.cost_ms + 1e-6, `${c.name} ${c.cost_ms} > ${node.name} ${node.cost_ms}`);
    assertCostsNest(c);
  }
}

describeObserved('trace', (o, py) => {
  const monitoring = Number(py.minor.split('.')[1]) >= 12;

  test('tree: names, file:line, call lines, cost and percent of parent; -n', async () => {
    const out = await trace(o, `trace __main__ handle -n 2 ${NOT_PROFILED}`);
    const traces = events(out, 'trace');
    assert.equal(traces.length, 2);
    assert.equal(events(out, 'end')[0].shown, 2);
    assert.equal(events(out, 'started')[0].backend, monitoring ? 'sys.monitoring' : 'setprofile');
    for (const t of traces) {
      const root = t.tree as TraceNode;
      assert.deepEqual([root.name, root.file, root.line], ['handle', 'observe_app.py', lineOf('def handle(')]);
      assert.equal(root.cost_ms, t.cost_ms);
      const query = child(root, 'query');
      assert.deepEqual([query.file, query.line, query.call_line], ['observe_app.py', lineOf('def query('), lineOf('rows = query(q)')]);
      const sleep = child(query, 'time.sleep');
      assert.equal(sleep.kind, 'c');
      assert.equal(sleep.call_line, lineOf('time.sleep(0.002)'));
      assert.ok(sleep.cost_ms >= 1.5, `sleep ${sleep.cost_ms}`);
      assertCostsNest(root);
    }
    const text = out.lines.join('\n');
    const pct = ((100 * child(traces[0].tree, 'query').cost_ms) / traces[0].cost_ms).toFixed(1);
    assert.match(text, new RegExp(`^\\[[\\d.]+ms\\] handle  observe_app\\.py:${lineOf('def handle(')}$`, 'm'));
    assert.match(
      text,
      new RegExp(`^[├└]─ \\[[\\d.]+ms ${pct.replace('.', '\\.')}%\\] query  observe_app\\.py:${lineOf('def query(')}$`, 'm'),
    );
    assert.match(text, /^[│ ] {2}└─ \[[\d.]+ms [\d.]+%\] time\.sleep {2}observe_app\.py:\d+$/m);
    await assertRestored(o);
  });

  test("-i hides cheaper inner calls but keeps every kept call's callers", async () => {
    const traces = events(await trace(o, `trace __main__ handle -i 1 -n 3 ${NOT_PROFILED}`), 'trace');
    assert.equal(traces.length, 3);
    for (const t of traces) {
      const root = t.tree as TraceNode;
      for (const n of allNodes(root).slice(1)) assert.ok(n.cost_ms >= 1, `${n.name} costs ${n.cost_ms} < -i 1`);
      assert.ok(child(child(root, 'query'), 'time.sleep')); // the 2 ms sleep with its caller
    }
    // parse and render_page take microseconds: hidden (unless a GIL switch stretched one)
    assert.ok(traces.some((t) => !t.tree.children.some((c: TraceNode) => c.name === 'parse' || c.name === 'render_page')));
    const all = events(await trace(o, `trace __main__ handle -i 0 -n 1 ${NOT_PROFILED}`), 'trace')[0].tree as TraceNode;
    assert.deepEqual(
      all.children.map((c) => c.name),
      ['parse', 'query', 'render_page'],
    );
  });

  test('-d limits depth (the traced call is level 1, as the reference counts), and the trace says how many calls it left out; with -i 0 it shows the call path', async () => {
    // -d 1: the traced call alone
    const t0 = events(await trace(o, `trace __main__ handle -i 0 -d 1 -n 1 ${NOT_PROFILED}`), 'trace')[0];
    assert.deepEqual((t0.tree as TraceNode).children, []);
    assert.ok((t0.truncated?.below_depth ?? 0) >= 3, JSON.stringify(t0.truncated));
    const out1 = await trace(o, `trace __main__ handle -i 0 -d 2 -n 1 ${NOT_PROFILED}`);
    const t1 = events(out1, 'trace')[0];
    const d1 = t1.tree as TraceNode;
    assert.deepEqual(
      d1.children.map((c) => c.name),
      ['parse', 'query', 'render_page'],
    );
    assert.equal(depth(d1), 1);
    // str.strip, time.sleep and str.join lie below -d 2
    assert.deepEqual(t1.truncated, { below_depth: 3 });
    assert.ok(out1.lines.includes('(incomplete: 3 call(s) below -d 2 not shown)'), out1.lines.join('\n'));
    const t2 = events(await trace(o, `trace __main__ handle -i 0 -d 3 -n 1 ${NOT_PROFILED}`), 'trace')[0];
    const d2 = t2.tree as TraceNode;
    assert.equal(t2.truncated, undefined);
    assert.equal(depth(d2), 2);
    assert.deepEqual(
      child(d2, 'parse').children.map((c) => c.name),
      ['str.strip'],
    );
    assert.deepEqual(
      child(d2, 'query').children.map((c) => c.name),
      ['time.sleep'],
    );
    assert.deepEqual(
      child(d2, 'render_page').children.map((c) => c.name),
      ['str.join'],
    );
  });

  test("a function another command has hooked meanwhile: where it is and its tree are its own, not the hook's", async () => {
    let traced!: () => void;
    const done = new Promise<void>((r) => (traced = r));
    const watching = Promise.all(
      ['handle', 'outer'].map((f) => runCommand(watchCommand, o, `watch __main__ ${f} -n 100000`, { stopWhen: done })),
    );
    try {
      await waitUntil(o, 'handle.__code__ is not ORIGINAL_CODE[0] and outer.__code__ is not ORIGINAL_CODE[5]');
      const out = await trace(o, `trace __main__ handle -n 1 ${NOT_PROFILED}`);
      const started = events(out, 'started')[0];
      assert.deepEqual([started.file, started.line], [join(TARGETS_DIR, 'observe_app.py'), lineOf('def handle(')]);
      const root = events(out, 'trace')[0].tree as TraceNode;
      assert.deepEqual([root.name, root.file, root.line], ['handle', 'observe_app.py', lineOf('def handle(')]);
      assert.equal(child(root, 'query').call_line, lineOf('rows = query(q)'));
      // a function defined inside it: found in its own code, not in the hook's
      const nested = await trace(o, 'trace __main__ outer -nm inner -i 0 -n 1');
      const at = events(nested, 'started')[0];
      assert.deepEqual([at.file, at.line], [join(TARGETS_DIR, 'observe_app.py'), lineOf('def inner(')]);
      const tree = events(nested, 'trace')[0].tree as TraceNode;
      assert.match(tree.name, /(^|\.)inner$/); // outer.<locals>.inner where code has a qualified name (3.11+)
      assert.deepEqual([tree.file, tree.line], ['observe_app.py', lineOf('def inner(')]);
    } finally {
      traced();
      await watching;
    }
    await assertRestored(o);
  });

  test('-et: only calls slower than it are shown', async () => {
    const out = await trace(o, 'trace __main__ slow_sometimes -et 10 -n 4');
    const traces = events(out, 'trace');
    assert.equal(traces.length, 4);
    for (const t of traces) assert.ok(t.cost_ms >= 10, `cost ${t.cost_ms}`);
    // the slow calls are the ones that sleep 15 ms; on a loaded machine a fast call can
    // also pass 10 ms (its thread descheduled), and then has no sleep to show
    const sleeps = traces.map((t) => (t.tree as TraceNode).children?.find((c) => c.name === 'time.sleep'));
    assert.ok(
      sleeps.some((c) => c !== undefined),
      JSON.stringify(traces.map((t) => t.tree)),
    );
    for (const c of sleeps) if (c) assert.ok(c.cost_ms >= 10, `time.sleep ${c.cost_ms} ms`);
  });

  test('-f on args and on target, decided before the call', async () => {
    const risky = events(await trace(o, 'trace __main__ risky -f "args[0] % 3 == 0" -n 2'), 'trace');
    assert.equal(risky.length, 2);
    for (const t of risky) {
      assert.equal(t.exception.type, 'ValueError');
      assert.equal(Number(/^ValueError: bad n (\d+)$/.exec(t.exception.message)![1]) % 3, 0);
    }
    const bob = events(await trace(o, `trace __main__ Account deposit -f "target.owner=='bob'" -n 1`), 'trace');
    assert.equal(bob[0].thread, 'worker');
    const bad = events(await trace(o, `trace __main__ handle -f "args[0]['nope']" -n 1`), 'trace');
    assert.deepEqual(bad[0].filter_error, { expr: "args[0]['nope']", error: "KeyError: 'nope'" });
    await assertRestored(o);
    assertOutputUnchanged(o.target);
  });

  test('async def: one tree, its wall time, the time suspended in asyncio.sleep (more in trace-async.test.ts)', async () => {
    const t = events(await trace(o, 'trace __main__ fetch -i 0 -n 1'), 'trace')[0];
    const seen = JSON.stringify(t); // in every message: what the agent sent
    const root = t.tree as TraceNode;
    assert.equal(root?.name, 'fetch', seen);
    assert.ok(t.cost_ms >= 2.5, seen);
    const sleep = root.children.find((c) => c.name === 'sleep' && c.kind === 'py');
    assert.ok(sleep && sleep.count === 1, seen);
    assert.equal(sleep.call_line, lineOf('await asyncio.sleep(0.003)'));
    // asyncio.sleep(0.003) arms its 3 ms timer inside its first step and is then
    // suspended until the timer fires: a thread descheduled after arming it (a loaded
    // machine) moves part of the 3 ms from the suspension into sleep's own step
    assert.ok(sleep.cost_ms >= 2.5 && sleep.suspended_ms! > 0 && sleep.suspended_ms! <= sleep.cost_ms, seen);
    assert.deepEqual(
      sleep.waits?.map((w) => w.on),
      ['asyncio.sleep'],
    );
    // fetch suspends after sleep does and resumes before it: within sleep's suspension
    assert.ok(root.suspended_ms! > 0 && root.suspended_ms! <= sleep.suspended_ms!, seen);
  });

  test('a thread under cProfile (3.8-3.11): its calls are reported as not traceable, cProfile keeps running', {
    skip: monitoring && 'cProfile uses sys.monitoring on 3.12+',
  }, async () => {
    const t = events(await trace(o, `trace __main__ handle -f "args[0]['query']=='profiled'" -n 1`), 'trace')[0];
    assert.equal(t.thread, 'c_profiled');
    assert.match(t.unavailable, /runs a C-level profiler \(\w+\) that cannot be chained/);
    assert.equal(t.tree, undefined);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await evalRepr(o, "PROFILE_STATE['cprofile_installed']"), 'True');
    await assertRestored(o);
  });

  test('only the traced call is recorded: concurrent calls on other threads never enter the tree', async () => {
    const traces = events(await trace(o, `trace __main__ handle -i 0 -f "args[0]['query'] in ('hello', 'world')" -n 3`), 'trace');
    assert.equal(traces.length, 3);
    const expected = new Set(['handle', 'parse', 'str.strip', 'query', 'time.sleep', 'render_page', 'str.join']);
    for (const t of traces) {
      assert.equal(t.thread, 'driver');
      for (const n of allNodes(t.tree)) assert.ok(expected.has(n.name), `${n.name} in the tree of driver's handle`);
    }
    // nothing left behind on the thread or in the interpreter
    if (monitoring)
      assert.equal(
        await evalRepr(o, '[sys.monitoring.get_tool(i) for i in range(6)]'),
        "[None, None, 'target-profiler', None, None, None]",
      );
    await assertRestored(o);
  });

  test("the target's own profiler, tracer and sys.monitoring tool keep working on the traced thread", async () => {
    const state = async () => JSON.parse((await evalRepr(o, 'json.dumps(PROFILE_STATE)')).slice(1, -1)) as Record<string, any>;
    const before = await state();
    assert.equal(before.installed, true);
    assert.equal(before.trace_installed, true);
    const traces = events(await trace(o, `trace __main__ handle -i 0 -f "args[0]['query']=='worker'" -n 3`), 'trace');
    assert.equal(traces.length, 3);
    for (const t of traces) {
      assert.equal(t.thread, 'worker');
      assert.equal(t.unavailable, undefined);
      assert.ok(child(child(t.tree, 'query'), 'time.sleep'));
    }
    await new Promise((r) => setTimeout(r, 100)); // a worker round after the last trace
    const afterTrace = await state();
    assert.equal(afterTrace.installed, true, "the worker's profile function is back");
    assert.equal(afterTrace.trace_installed, true, "the worker's trace function is untouched");
    assert.ok(afterTrace.events > before.events);
    assert.ok(afterTrace.trace_events > before.trace_events);
    if (monitoring) {
      assert.equal(afterTrace.monitoring_tool, 'target-profiler');
      assert.ok(afterTrace.monitoring_events > before.monitoring_events + 3, 'query starts were counted while traced');
      assert.equal(await evalRepr(o, 'sys.monitoring.get_tool(sys.monitoring.PROFILER_ID)'), "'target-profiler'");
    }
    assertOutputUnchanged(o.target);
  });
});

// the reference leaves importlib's frozen bootstrap out of its trees; 3.8-3.11 trace into it
for (const py of discoverPythons().filter((p) => ['3.8', '3.11', '3.12'].includes(p.minor))) {
  test(`a first import's bootstrap frames are left out of the tree (${py.label})`, async (t) => {
    const target = await startTarget(py, 'first_import.py');
    t.after(() => target.stop());
    const r = await runCli([String(target.pid), '--attach-timeout', '30', '--cmd', 'trace __main__ do_import -i 0 -n 1'], {
      timeoutMs: 60000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\[[\d.]+ms\] do_import {2}first_import\.py:\d+$/m);
    assert.match(r.stdout, /^└─ \[[\d.]+ms [\d.]+%\] len {2}first_import\.py:\d+$/m);
    assert.doesNotMatch(r.stdout, /importlib|_find_and_load/);
  });
}
