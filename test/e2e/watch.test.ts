// watch against test/targets/observe_app.py on every interpreter: each option, references
// taken before the watch, methods/classmethods/staticmethods, async, nested and generator
// functions, filters that raise, the hook gone (original code objects back) after -n,
// Ctrl-C, reset and a closed client, and the target's output unchanged throughout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentCommandError } from '../../src/channel/client.js';
import { watchCommand } from '../../src/commands/watch.js';
import {
  assertOutputUnchanged,
  assertRestored,
  describeObserved,
  evalRepr,
  events,
  runCommand,
  waitUntil,
  type Observed,
} from '../helpers/observe.js';

const watch = (o: Observed, line: string, opts = {}) => runCommand(watchCommand, o, line, opts);
const reprs = (call: Record<string, any>) => Object.fromEntries(call.values.map((v: any) => [v.expr, v.value?.repr ?? `!${v.error}`]));

describeObserved('watch', (o) => {
  test('module function through a reference taken before: args, kwargs, cost, -n', async () => {
    const out = await watch(o, 'watch __main__ handle -n 2');
    const calls = events(out, 'call');
    assert.equal(calls.length, 2);
    for (const c of calls) {
      assert.equal(c.method, '__main__.handle');
      assert.match(c.thread, /^(driver|worker|c_profiled)$/);
      assert.ok(c.cost_ms >= 1.5 && c.cost_ms < 1000, `cost ${c.cost_ms}`); // query sleeps 2 ms
      const [args, kwargs] = c.values;
      assert.equal(args.value.repr, '(dict[1],)'); // -x 1: the tuple's items, one level
      assert.match(args.value.children[0].value.repr, /^\{'query': '(hello|world|worker|profiled)'\}$/);
      assert.equal(kwargs.value.repr, '{}');
    }
    assert.equal((events(out, 'end')[0] as any).shown, 2);
    assert.match(out.lines.join('\n'), /EXPR {8}args\n {2}VALUE {7}\(\n {16}\{'query': '(hello|world|worker|profiled)'\},\n {14}\)/);
    await assertRestored(o);
  });

  test('-f on arguments, --expr items, -n counts only calls that passed', async () => {
    const out = await watch(o, `watch __main__ handle -f "args[0]['query']=='hello'" --expr "args[0]['query'],return_obj['body']" -n 3`);
    const calls = events(out, 'call');
    assert.equal(calls.length, 3);
    for (const c of calls) assert.deepEqual(reprs(c), { "args[0]['query']": "'hello'", "return_obj['body']": "'hello|hello|hello'" });
  });

  test('-f on cost and return value; Arthas-style {a,b} expression', async () => {
    const out = await watch(
      o,
      `watch __main__ Account deposit --expr "{return_obj,args}" -f "return_obj['success']==False and cost>=0" -n 2`,
    );
    for (const c of events(out, 'call')) {
      const v = reprs(c);
      assert.match(v.return_obj, /'success': False/);
      assert.match(v.args, /^\((-1|0), '(r\d+|worker)'\)$/); // parameters as bound, note included
    }
  });

  test('-e: only calls that raised, with type, message and traceback', async () => {
    const out = await watch(o, 'watch __main__ risky -e -n 2');
    const calls = events(out, 'call');
    assert.equal(calls.length, 2);
    for (const c of calls) {
      assert.equal(c.exception.type, 'ValueError');
      const n = Number(/^bad n (\d+)$/.exec(c.exception.message)![1]);
      assert.equal(n % 3, 0);
      assert.equal(reprs(c).args, `(${n},)`);
      assert.match(c.exception.traceback, /in risky\n.*raise ValueError/s);
      // as the call ended: from risky down, whatever the caller (one_round, which catches
      // it) has done with the exception before the agent's thread shows the call
      assert.match(c.exception.traceback, /^Traceback \(most recent call last\):\n {2}File "[^"]+", line \d+, in risky\n/);
      assert.doesNotMatch(c.exception.traceback, /spyglass_agent/, "the hook engine's own frame is left out");
    }
    assert.match(out.lines.join('\n'), /EXCEPTION {3}ValueError: bad n \d+/);
  });

  test('method: target is the instance, private names mangled as in Python', async () => {
    const out = await watch(
      o,
      `watch __main__ Account deposit --expr "target.owner,target._Account__val,args,kwargs,return_obj['balance']" -f "target.owner=='ann'" -n 1`,
    );
    const v = reprs(events(out, 'call')[0]);
    const amount = Number(/^\((-?\d+), 'r\d+'\)$/.exec(v.args)![1]);
    assert.equal(v['target.owner'], "'ann'");
    assert.equal(v['target._Account__val'], String(100 + amount));
    assert.equal(v["return_obj['balance']"], String(100 + amount));
    assert.equal(v.kwargs, '{}'); // only keyword-only parameters and **kwargs land there
  });

  test('classmethod (target is the class) and staticmethod (no target)', async () => {
    const cm = reprs(events(await watch(o, 'watch __main__ Account open --expr "target,args,return_obj.owner" -n 1'), 'call')[0]);
    assert.equal(cm.target, "<class '__main__.Account'>");
    assert.equal(cm.args, "('ann',)");
    assert.equal(cm['return_obj.owner'], "'ann'");
    const sm = reprs(events(await watch(o, 'watch __main__ Account fee --expr "target,args,return_obj" -n 1'), 'call')[0]);
    assert.equal(sm.target, 'None');
    const n = Number(/^\((\d+),\)$/.exec(sm.args)![1]);
    assert.equal(sm.return_obj, String(n / 10));
  });

  test('a function of another module: keyword-only parameters and **kwargs land in kwargs', async () => {
    const c = events(await watch(o, 'watch observe_lib scale --expr "args,kwargs,return_obj" -n 1'), 'call')[0];
    const v = reprs(c);
    const i = Number(/^\((\d+), 1\)$/.exec(v.args)![1]);
    assert.equal(v.kwargs, "{'factor': 3, 'tag': 'r'}");
    assert.equal(v.return_obj, String(3 * i + 1 + 1));
    assert.equal(c.method, 'observe_lib.scale');
    await assertRestored(o);
  });

  test("a stdlib function the agent itself uses (json.dumps): only the target's calls are shown", async () => {
    // the agent encodes every message with json.dumps: its own calls must not show,
    // nor feed back (each event shown would be encoded, and shown, and so on)
    const out = await watch(o, `watch json dumps --expr "kwargs['separators'],kwargs['default'],return_obj" -n 4`);
    const calls = events(out, 'call');
    assert.equal(calls.length, 4);
    for (const c of calls) {
      assert.equal(c.thread, 'driver');
      const v = reprs(c);
      assert.equal(v["kwargs['separators']"], "(',', ':')"); // keyword-only: bound into kwargs
      assert.equal(v["kwargs['default']"], 'None'); // the agent passes its own
      assert.match(v.return_obj, /^'\[/); // a ROUND line's list, printed by the driver
    }
    await assertRestored(o);
  });

  test("what the agent does for a request is not observed (rendering calls __repr__); the user's code in an eval is", async () => {
    let done!: () => void;
    const running = watch(o, 'watch __main__ Loud __repr__ -n 100000', { stopWhen: new Promise<void>((r) => (done = r)) });
    try {
      await waitUntil(o, "Loud.__repr__.__code__.co_filename == '<spyglass hook>'");
      // the agent renders the result, calling Loud.__repr__ (which raises): its own call
      const rendered = (await o.client.call('eval', { expr: 'Loud()' })) as { repr: string };
      assert.match(rendered.repr, /^<__main__\.Loud object at 0x[0-9a-f]+>$/); // its __repr__ raised
      // the expression itself is the user's code running in the target: that call shows
      await assert.rejects(o.client.call('eval', { expr: 'Loud.__repr__(Loud())' }), /no repr for you/);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      done();
    }
    const calls = events(await running, 'call');
    assert.equal(calls.length, 1, JSON.stringify(calls.map((c) => [c.thread, c.exception?.message])));
    assert.match(calls[0].thread, /^spyglass-req-/);
    assert.equal(calls[0].exception.message, 'no repr for you');
    await assertRestored(o);
  });

  test('bound method held by another thread since before the watch', async () => {
    const out = await watch(o, `watch __main__ Account deposit -f "args[1]=='worker'" -n 1`);
    const c = events(out, 'call')[0];
    assert.equal(c.thread, 'worker');
    assert.equal(reprs(c).args, "(0, 'worker')");
  });

  test('async def: cost across the await, return_obj is the awaited result', async () => {
    const out = await watch(o, 'watch __main__ fetch --expr "args[0],return_obj" -n 2');
    for (const c of events(out, 'call')) {
      const v = reprs(c);
      assert.equal(Number(v.return_obj), 2 * Number(v['args[0]']));
      assert.ok(c.cost_ms >= 2.5, `cost ${c.cost_ms} should include the 3 ms sleep`);
    }
  });

  test('-nm: a function defined inside another; generators', async () => {
    const nested = reprs(events(await watch(o, 'watch __main__ outer -nm inner --expr "args,return_obj" -n 1'), 'call')[0]);
    const v = Number(/^\((\d+),\)$/.exec(nested.args)![1]);
    assert.equal(nested.return_obj, String(2 * v));
    const gen = reprs(events(await watch(o, 'watch __main__ numbers --expr "args,return_obj" -n 1'), 'call')[0]);
    assert.deepEqual(gen, { args: '(3,)', return_obj: '3' });
    await assertRestored(o);
  });

  test('-x expands deeper, -r shows the plain repr', async () => {
    const x1 = events(await watch(o, 'watch __main__ handle --expr args -n 1 -x 1'), 'call')[0].values[0].value;
    assert.equal(x1.children.length, 1);
    assert.equal(x1.children[0].value.children, undefined);
    const x2 = events(await watch(o, 'watch __main__ handle --expr args -n 1 -x 2'), 'call')[0].values[0].value;
    assert.equal(x2.children[0].value.children[0].key.repr, "'query'");
    const raw = events(await watch(o, 'watch __main__ handle --expr args -n 1 -r'), 'call')[0].values[0].value;
    assert.match(raw.repr, /^\(\{'query': '\w+'\},\)$/);
    assert.equal(raw.children, undefined);
  });

  test('-x 3 and 4 expand that many levels; -v shows every item; a __repr__ that raises is caught', async () => {
    const depthOf = (node: any): number => {
      // how many nested dict levels were expanded: {'a': {'b': {'c': {'d': {'e': 1}}}}}
      let n = 0;
      for (let cur = node; cur?.children; cur = cur.children[0].value) n++;
      return n;
    };
    const doc = (x: number) =>
      watch(o, `watch __main__ catalog --expr args[0] -n 1 -x ${x}`).then((out) => events(out, 'call')[0].values[0].value);
    assert.equal(depthOf(await doc(3)), 3);
    const x4 = await doc(4);
    assert.equal(depthOf(x4), 4);
    assert.equal(x4.children[0].value.children[0].value.children[0].value.children[0].value.repr, "{'e': 1}");
    const items = (flags: string) =>
      watch(o, `watch __main__ catalog --expr args[1] -n 1 ${flags}`).then((out) => events(out, 'call')[0].values[0].value);
    const cut = await items('');
    assert.equal(cut.len, 150);
    assert.equal(cut.children.length, 100);
    assert.equal(cut.truncated, 50);
    const all = await items('-v');
    assert.equal(all.children.length, 150);
    assert.equal(all.children[149].value.repr, '149');
    assert.equal(all.truncated, undefined);
    const out = await watch(o, 'watch __main__ catalog --expr "args[2],return_obj" -n 1');
    const [odd, ret] = events(out, 'call')[0].values;
    assert.equal(odd.value.error, '__repr__ raised RuntimeError: no repr for you');
    assert.match(odd.value.repr, /^<__main__\.Loud object at 0x[0-9a-f]+>$/);
    assert.equal(ret.value.repr, '150');
    assertOutputUnchanged(o.target);
  });

  test("an expression or filter that raises is that call's error; the target is unaffected", async () => {
    const out = await watch(o, `watch __main__ handle -f "args[0]['nope']" -n 2`);
    for (const c of events(out, 'call')) assert.deepEqual(c.filter_error, { expr: "args[0]['nope']", error: "KeyError: 'nope'" });
    const bad = events(await watch(o, 'watch __main__ handle --expr "args,1/0" -n 1'), 'call')[0];
    assert.equal(reprs(bad)['1/0'], '!ZeroDivisionError: division by zero');
    assert.match(bad.values[0].value.children[0].value.repr, /'query'/);
    assertOutputUnchanged(o.target);
  });

  test('a syntax error is reported before any hook is installed', async () => {
    await assert.rejects(watch(o, `watch __main__ handle -f "args[0"`), (e: unknown) => {
      assert.ok(e instanceof AgentCommandError);
      assert.match(e.message, /-f 'args\[0'/);
      return true;
    });
    await assert.rejects(watch(o, 'watch __main__ no_such_function'), /no function no_such_function/);
    await assertRestored(o);
  });

  test('while watched: identity, name, signature and globals unchanged; Ctrl-C removes the hook', async () => {
    let checked!: () => void;
    const running = watch(o, 'watch __main__ handle -n 100000', { stopWhen: new Promise<void>((r) => (checked = r)) });
    try {
      await waitUntil(o, 'handle.__code__ is not ORIGINAL_CODE[0]');
      await new Promise((r) => setTimeout(r, 300)); // a few calls to show
      assert.equal(await evalRepr(o, 'handle.__code__ is ORIGINAL_CODE[0]'), 'False', 'the hook should be in');
      assert.equal(
        await evalRepr(
          o,
          "(id(handle) == HANDLE_ID, handlers[0] is handle, handle.__name__, handle.__qualname__, str(__import__('inspect').signature(handle)))",
        ),
        "(True, True, 'handle', 'handle', '(request)')",
      );
      assert.equal(await evalRepr(o, 'sorted(globals())'), `[${o.target.initialGlobals.map((g) => `'${g}'`).join(', ')}]`);
    } finally {
      checked();
      await running;
    }
    const out = await running;
    assert.ok(events(out, 'call').length >= 2);
    assert.equal(events(out, 'end')[0].reason, 'cancelled');
    await assertRestored(o);
    assertOutputUnchanged(o.target);
  });

  test('reset and a closed connection remove the hooks of that client', async () => {
    const other = await o.target.connect();
    const streaming = runCommand(watchCommand, o, 'watch __main__ risky -n 100000', { client: other });
    await waitUntil(o, 'risky.__code__ is not ORIGINAL_CODE[3]');
    assert.equal(((await other.call('reset', {})) as { cancelled: number }).cancelled, 1);
    await streaming;
    await assertRestored(o);
    const again = runCommand(watchCommand, o, 'watch __main__ risky -n 100000', { client: other }).catch(() => undefined);
    await waitUntil(o, 'risky.__code__ is not ORIGINAL_CODE[3]');
    other.close();
    await again;
    await waitUntil(o, 'codes_restored()');
    await assertRestored(o);
  });
});
