// trace of async def, generators and the tasks a call hands work to, against
// test/targets/trace_async_app.py on every interpreter (setprofile on 3.8-3.11,
// sys.monitoring on 3.12+): one node per coroutine call however often it was suspended,
// nested where it was awaited, with its wall time, the time it spent suspended and on
// what; gather's and create_task's tasks under the call that awaited them; -et on the
// whole call's wall time; and, async or sync, no frame of spyglass's own in a tree and
// every file:line one the user's file has (read from the file).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AgentClient } from '../../src/channel/client.js';
import { traceCommand, treeLines, type TraceNode } from '../../src/commands/trace.js';
import { AGENT_DIR } from '../../src/paths.js';
import { startAgentTarget, type AgentTarget } from '../helpers/agent-target.js';
import { evalRepr, events, runCommand, waitUntil, type Observed } from '../helpers/observe.js';
import { discoverPythons } from '../helpers/pythons.js';
import { TARGETS_DIR } from '../helpers/targets.js';

const APP = 'trace_async_app.py';
const SOURCE = readFileSync(join(TARGETS_DIR, APP), 'utf8').split('\n');
const lineOf = (text: string) => {
  const i = SOURCE.findIndex((l) => l.includes(text));
  assert.ok(i >= 0, text);
  return i + 1;
};
/** Waits measured on a loaded 2-core machine: never shorter than asked, at most this much longer. */
const SLACK_MS = 250;

const trace = (o: Observed, line: string, opts = {}) => runCommand(traceCommand, o, line, opts);

async function oneTree(o: Observed, line: string): Promise<{ tree: TraceNode; cost: number; text: string }> {
  const out = await trace(o, line);
  const t = events(out, 'trace')[0];
  assert.ok(t?.tree, `no tree from ${line}: ${JSON.stringify(out.records)}`);
  return { tree: t.tree as TraceNode, cost: t.cost_ms as number, text: out.lines.join('\n') };
}

function allNodes(node: TraceNode): TraceNode[] {
  return [node, ...node.children.flatMap(allNodes)];
}

function child(node: TraceNode, name: string): TraceNode {
  const found = node.children.find((c) => c.name === name || c.name.endsWith(`.${name}`));
  assert.ok(found, `${node.name} has no child ${name}: ${node.children.map((c) => c.name).join(', ')}`);
  return found;
}

/** asyncio.sleep's own node (a coroutine of asyncio/tasks.py) */
function sleepUnder(node: TraceNode): TraceNode {
  const sleep = node.children.find((c) => c.name === 'sleep' && c.file.endsWith('asyncio/tasks.py'));
  assert.ok(sleep, `no asyncio.sleep under ${node.name}: ${JSON.stringify(node.children.map((c) => [c.name, c.file]))}`);
  return sleep;
}

function within(value: number, low: number, what: string): void {
  assert.ok(value >= low && value <= low + SLACK_MS, `${what}: ${value} ms, expected ${low}..${low + SLACK_MS}`);
}

const fileLines = new Map<string, string[]>();
function lineText(path: string, line: number): string | undefined {
  if (!fileLines.has(path)) fileLines.set(path, readFileSync(path, 'utf8').split('\n'));
  return fileLines.get(path)![line - 1];
}

/** No node is spyglass's own, and every line shown is a non-blank line of the node's file. */
function assertOwnFramesAbsentAndLinesReal(root: TraceNode): void {
  const agentDir = join(AGENT_DIR, 'spyglass_agent');
  const walk = (node: TraceNode, parent?: TraceNode) => {
    assert.ok(!node.path.startsWith(agentDir) && !node.path.includes('<spyglass'), `${node.name} is spyglass's: ${node.path}`);
    if (node.kind === 'py') {
      assert.ok(node.line > 0, `${node.name} has no line`);
      const text = lineText(node.path, node.line);
      assert.ok(text !== undefined && text.trim() !== '', `${node.path}:${node.line} (${node.name}) is not a line of code`);
    }
    if (parent && node.call_line > 0) {
      const text = lineText(parent.path, node.call_line);
      assert.ok(text !== undefined && text.trim() !== '', `${node.name} called from ${parent.path}:${node.call_line}, not a line of code`);
    }
    if (node.kind === 'c') assert.equal(node.line, node.call_line);
    for (const c of node.children) walk(c, node);
  };
  walk(root);
}

describe('trace of async def, generators and tasks', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    describe(py.label, { concurrency: false }, () => {
      const o = {} as Observed;
      let target: AgentTarget;
      const monitoring = Number(py.minor.split('.')[1]) >= 12;
      before(async () => {
        target = await startAgentTarget(py, { script: APP });
        const client: AgentClient = await target.attach();
        Object.assign(o, {
          target,
          client,
          stop: async () => {
            client.close();
            await target.stop();
          },
        });
        await waitUntil(o, "STATE['rounds'] >= 1");
      });
      after(async () => {
        await o.stop?.();
      });

      test('an awaited chain: one node per coroutine call, nested where awaited, wall time and where it was suspended', async () => {
        const { tree, cost, text } = await oneTree(o, 'trace __main__ handle_request -n 1');
        assert.deepEqual([tree.name, tree.file, tree.line], ['handle_request', APP, lineOf('async def handle_request(')]);
        within(cost, 30, 'handle_request');
        const lookup = child(tree, 'lookup');
        assert.equal(lookup.count, 1);
        assert.deepEqual(
          [lookup.file, lookup.line, lookup.call_line],
          [APP, lineOf('async def lookup('), lineOf('row = await lookup(key)')],
        );
        within(lookup.cost_ms, 30, 'lookup');
        // asyncio.sleep arms its timer, then suspends: a thread descheduled in between (a
        // loaded machine) shortens the suspension, never the wall time checked above
        assert.ok(lookup.suspended_ms! > 0 && lookup.suspended_ms! <= lookup.cost_ms, `lookup suspended ${lookup.suspended_ms}`);
        assert.deepEqual(lookup.waits, [], 'lookup waits on its children, not on something of its own');
        const nap = sleepUnder(lookup);
        assert.equal(nap.call_line, lineOf('await asyncio.sleep(0.01)'));
        within(nap.cost_ms, 10, "lookup's asyncio.sleep");
        assert.equal(nap.waits?.[0]?.on, 'asyncio.sleep');
        const fetch = child(lookup, 'fetch_row');
        assert.deepEqual([fetch.count, fetch.call_line], [1, lineOf('return await fetch_row(key)')]);
        within(fetch.cost_ms, 20, 'fetch_row');
        const inner = sleepUnder(fetch);
        assert.ok(inner.suspended_ms! > 0 && inner.suspended_ms! <= inner.cost_ms, `fetch_row's sleep suspended ${inner.suspended_ms}`);
        assert.deepEqual(
          inner.waits?.map((w) => w.on),
          ['asyncio.sleep'],
        );
        // what the user reads
        assert.match(
          text,
          new RegExp(`^[├└]─ \\[[\\d.]+ms [\\d.]+%\\] lookup  ${APP.replace('.', '\\.')}:${lookup.line}  \\(suspended [\\d.]+ms\\)$`, 'm'),
        );
        assert.match(text, /─ \[[\d.]+ms [\d.]+%\] sleep {2}asyncio\/tasks\.py:\d+ {2}\(suspended [\d.]+ms on asyncio\.sleep\)$/m);
        assertOwnFramesAbsentAndLinesReal(tree);
      });

      test('-i filters on wall time: a coroutine that waited is kept though its own CPU time is tiny', async () => {
        const { tree } = await oneTree(o, 'trace __main__ handle_request -i 15 -n 1');
        const lookup = child(tree, 'lookup');
        const fetch = child(lookup, 'fetch_row');
        assert.ok(sleepUnder(fetch).cost_ms >= 19.5);
        // the 10 ms sleep shows only when a loaded machine made it last 15 ms
        for (const n of allNodes(tree).slice(1)) assert.ok(n.cost_ms >= 15, `${n.name} costs ${n.cost_ms} < -i 15`);
      });

      test('gather: both coroutines under the awaiting call, each marked as another task', async () => {
        const { tree, text } = await oneTree(o, 'trace __main__ fan_out -n 1');
        assert.deepEqual(
          tree.waits?.map((w) => w.on),
          ['other tasks (gather)'],
        );
        const a = child(tree, 'part_a');
        const b = child(tree, 'part_b');
        for (const [node, ms] of [
          [a, 10],
          [b, 20],
        ] as const) {
          assert.equal(node.task, true);
          assert.equal(node.unfinished, false);
          assert.equal(node.count, 1);
          assert.equal(node.call_line, lineOf('await asyncio.gather(part_a(), part_b())'));
          within(node.cost_ms, ms, node.name);
          assert.deepEqual(
            sleepUnder(node).waits?.map((w) => w.on),
            ['asyncio.sleep'],
          );
        }
        assert.match(text, /─ \[[\d.]+ms [\d.]+%\] part_b {2}trace_async_app\.py:\d+ {2}\(another task, suspended [\d.]+ms\)$/m);
        assertOwnFramesAbsentAndLinesReal(tree);
      });

      test('a task created then awaited: under its creator, which waits on another task', async () => {
        const { tree } = await oneTree(o, 'trace __main__ await_task -n 1');
        assert.deepEqual(
          tree.waits?.map((w) => w.on),
          ['another task'],
        );
        const a = child(tree, 'part_a');
        assert.equal(a.task, true);
        assert.equal(a.call_line, lineOf('task = asyncio.ensure_future(part_a())'));
        within(a.cost_ms, 10, 'part_a');
      });

      test('a coroutine suspended three times is one node', async () => {
        const { tree } = await oneTree(o, 'trace __main__ napper -n 1');
        const naps = child(tree, 'three_naps');
        assert.equal(naps.count, 1);
        within(naps.cost_ms, 15, 'three_naps');
        assert.ok(naps.suspended_ms! > 0 && naps.suspended_ms! <= naps.cost_ms, `suspended ${naps.suspended_ms}`);
        const sleep = sleepUnder(naps);
        assert.equal(sleep.count, 3);
        assert.equal(sleep.waits?.[0]?.on, 'asyncio.sleep');
      });

      test('suspended on a queue, on a lock', async () => {
        const q = (await oneTree(o, 'trace __main__ queued -n 1')).tree;
        const get = allNodes(q).find((n) => n.waits?.some((w) => w.on === 'a queue'));
        assert.ok(get, JSON.stringify(q));
        assert.ok(get.file.endsWith('asyncio/queues.py'), get.file);
        const l = (await oneTree(o, 'trace __main__ locked -n 1')).tree;
        const acquire = allNodes(l).find((n) => n.waits?.some((w) => w.on === 'a lock'));
        assert.ok(acquire, JSON.stringify(l));
        assert.ok(acquire.file.endsWith('asyncio/locks.py'), acquire.file);
        // released 5 ms after the call arms the timer: a thread descheduled between the two
        // (a loaded machine) shortens the suspension, never the call
        assert.ok(acquire.suspended_ms! > 0, `suspended ${acquire.suspended_ms}`);
        assert.ok(l.cost_ms >= 4.5, `locked ${l.cost_ms}`);
      });

      test('generators and async generators: one node per call, steps merged', async () => {
        const g = (await oneTree(o, 'trace __main__ sum_numbers -n 1')).tree;
        const numbers = child(g, 'numbers');
        assert.equal(numbers.count, 1);
        assert.equal(numbers.call_line, lineOf('for i in numbers(3):'));
        // its own steps (3 x 1 ms), not the 2 ms its consumer spends on each value
        assert.ok(numbers.cost_ms >= 2.9 && numbers.cost_ms < 6 + SLACK_MS, `numbers ${numbers.cost_ms}`);
        assert.equal(child(numbers, 'time.sleep').count, 3);
        const a = (await oneTree(o, 'trace __main__ consume_agen -n 1')).tree;
        const ticks = child(a, 'ticks');
        assert.equal(ticks.count, 1);
        within(ticks.cost_ms, 6, 'ticks');
        assert.ok(ticks.suspended_ms! > 0 && ticks.suspended_ms! <= ticks.cost_ms, `ticks suspended ${ticks.suspended_ms}`);
        assert.equal(sleepUnder(ticks).count, 3);
      });

      test('-et sees the whole wall time of an async call', async () => {
        const t = events(await trace(o, 'trace __main__ handle_request -et 25 -n 1'), 'trace')[0];
        assert.ok(t.cost_ms >= 29, `cost ${t.cost_ms}`);
        const none = await trace(o, 'trace __main__ handle_request -et 100000 -n 1', { stopAfterMs: 1500 });
        assert.equal(events(none, 'trace').length, 0);
        assert.equal(events(none, 'end')[0].shown, 0);
      });

      test("no frame of spyglass's own, every line real: with another command's hook inside, async and sync", async () => {
        // a watch on lookup/query puts a hook wrapper, its site and its callbacks inside the traced call
        for (const [watched, traced] of [
          ['lookup', 'handle_request'],
          ['query', 'sync_handle'],
        ]) {
          const stream = o.client.request('watch', { module: '__main__', method: watched, limit: 100000000 });
          const started = (async () => {
            for await (const ev of stream) if (ev.event === 'started') return;
          })();
          await started;
          try {
            const { tree } = await oneTree(o, `trace __main__ ${traced} -i 0 -n 1`);
            assert.ok(allNodes(tree).length > 3, JSON.stringify(tree));
            assert.ok(child(tree, traced === 'handle_request' ? 'lookup' : 'query'));
            assertOwnFramesAbsentAndLinesReal(tree);
            for (const l of treeLines(tree)) assert.doesNotMatch(l, /spyglass|hooks\.py/);
          } finally {
            stream.cancel();
            for await (const _ of stream);
          }
        }
      });

      test('nothing is left behind on the loop thread', async () => {
        const before = Number(await evalRepr(o, "STATE['rounds']"));
        await waitUntil(o, `STATE['rounds'] > ${before}`);
        if (monitoring)
          assert.equal(await evalRepr(o, '[sys.monitoring.get_tool(i) for i in range(6)]'), '[None, None, None, None, None, None]');
        else assert.equal(await evalRepr(o, "STATE['profile_clean']"), 'True');
        assert.equal(target.stderr(), '', 'the target wrote to stderr');
      });
    });
  }
});
