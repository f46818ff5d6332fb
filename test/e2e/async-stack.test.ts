// stack -a on every interpreter, against test/targets/async_app.py: the tasks of three
// event loops (the main thread's, thread "bg-loop"'s, one never run) with their names,
// states, coroutines, await chains at the target's own lines, and the tree of which task
// awaits which (a gather; a TaskGroup on 3.11+); `dump --async` from outside the shell;
// and a process that never imported asyncio, which is told so (and still has not).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { AsyncLoop, AsyncTask, AsyncTasksAnswer } from '../../src/commands/async-stack.js';
import type { RenderedNode } from '../../src/channel/protocol.js';
import { runLine } from '../../src/shell/dispatch.js';
import { startAgentTarget } from '../helpers/agent-target.js';
import { runCli } from '../helpers/cli.js';
import { commandContext } from '../helpers/command-context.js';
import { discoverPythons } from '../helpers/pythons.js';
import { TARGETS_DIR, markerLines } from '../helpers/targets.js';

const SCRIPT = join(TARGETS_DIR, 'async_app.py');
const LINE = markerLines(SCRIPT);

function task(loop: AsyncLoop, name: string): AsyncTask {
  const t = loop.tasks.find((x) => x.name === name);
  assert.ok(t, `no task ${name} in ${loop.tasks.map((x) => x.name).join(', ')}`);
  return t;
}

/** The chain's frames in the target's own file, as function:line. */
function own(t: AsyncTask): string[] {
  return t.chain.filter((f) => f.file === SCRIPT).map((f) => `${f.function.replace(/^.*\./, '')}:${f.line}`);
}

describe('stack -a', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    test(py.label, async () => {
      const target = await startAgentTarget(py, { script: 'async_app.py' });
      try {
        const client = await target.attach();
        try {
          const { ctx, out } = commandContext(target.pid, { agent: client });
          await runLine(ctx, 'stack -a');
          const a = out.records[0] as unknown as AsyncTasksAnswer & { pid: number };
          assert.deepEqual([a.pid, a.asyncio, a.tasks, a.loops!.length], [target.pid, true, 9, 3]);
          const [main, bg, parked] = a.loops!;
          // the main thread's loop first, then the other running one, then the one never run
          assert.deepEqual([main.running, main.thread?.name, main.thread?.native_id], [true, 'MainThread', target.pid]);
          assert.deepEqual([bg.running, bg.thread?.name], [true, 'bg-loop']);
          assert.deepEqual([parked.running, parked.thread, parked.closed], [false, null, false]);
          assert.deepEqual(
            main.tasks.map((t) => t.name),
            ['cancelled', 'failed', 'fetcher-1', 'fetcher-2', 'idler', 'main'],
          );

          // main gathers the two fetchers: the tree's edges, both ways
          const m = task(main, 'main');
          const f1 = task(main, 'fetcher-1');
          const f2 = task(main, 'fetcher-2');
          assert.deepEqual([m.state, m.coroutine, own(m)], ['waiting', 'main', [`main:${LINE.gather}`]]);
          assert.deepEqual(m.awaits.sort(), [f1.id, f2.id].sort());
          assert.deepEqual([f1.awaited_by, f2.awaited_by], [[m.id], [m.id]]);
          // each fetcher's chain down to asyncio.sleep's own frame
          for (const f of [f1, f2]) {
            assert.deepEqual([f.state, f.coroutine, own(f)], ['waiting', 'fetch', [`fetch:${LINE.fetch}`, `leaf:${LINE.leaf}`]]);
            assert.equal(f.chain.at(-1)!.function, 'sleep');
            assert.match(f.chain.at(-1)!.file!, /asyncio[/\\]tasks\.py$/);
            assert.equal(f.chain[0].code, 'await leaf(n)  # LINE:fetch');
            assert.match(f.awaiting!, /^Future \(pending\)$/);
          }
          const idler = task(main, 'idler');
          assert.deepEqual([idler.state, own(idler), idler.awaits], ['waiting', [`idle:${LINE.idle}`], []]);
          assert.deepEqual([task(main, 'failed').state, task(main, 'failed').exception], ['failed', 'ValueError: boom']);
          assert.equal(task(main, 'cancelled').state, 'cancelled');
          // the other thread's loop: bg-main waits for bg-ticker (a TaskGroup on 3.11+)
          const bm = task(bg, 'bg-main');
          const tick = task(bg, 'bg-ticker');
          const groupLine = Number(py.minor.split('.')[1]) >= 11 ? LINE.group : LINE.gather_bg;
          assert.deepEqual([bm.awaits, tick.awaited_by, own(bm)[0]], [[tick.id], [bm.id], `bg_main:${groupLine}`]);
          assert.ok(['waiting', 'pending', 'running'].includes(tick.state), tick.state);
          // a loop not running: its task pending, its coroutine not started (at its def)
          const p = task(parked, 'parked');
          assert.deepEqual([p.state, p.coroutine, own(p)], ['pending', 'leaf', [`leaf:${LINE.leaf - 1}`]]);

          const text = out.lines.join('\n');
          assert.match(text, /^Async tasks of process \d+: 9 in 3 event loops \(read on an agent thread/m);
          assert.match(text, new RegExp(`^Event loop 0x[0-9a-f]+ \\(\\w+\\) running in thread ${target.pid} "MainThread": 6 tasks$`, 'm'));
          assert.match(text, /^ {2}main \[WAITING\] main\n.*main \(.*async_app\.py:\d+\) {2}await asyncio\.gather\(\*fetchers\)/m);
          assert.match(text, /^ {2}├─ fetcher-1 \[WAITING\] fetch {2}awaits Future \(pending\)$/m);
          assert.match(text, /^ {2}└─ fetcher-2 \[WAITING\] fetch/m);
          assert.match(text, /^ {2}failed \[FAILED\] failing raised ValueError: boom$/m);
          assert.match(text, /^Event loop 0x[0-9a-f]+ \(\w+\) not running: 1 task$/m);

          // dump --async, from outside the shell: it attaches (the agent is there already)
          const dumped = await runCli(['dump', String(target.pid), '--async', '--json']);
          assert.equal(dumped.code, 0, dumped.stderr);
          assert.match(dumped.stderr, new RegExp(`^spyglass: asked the agent already in process ${target.pid} for its asyncio tasks`));
          const d = JSON.parse(dumped.stdout) as AsyncTasksAnswer;
          assert.equal(d.tasks, 9);
          assert.ok(d.loops!.some((l) => l.tasks.some((t) => t.name === 'fetcher-2' && t.awaited_by.length === 1)));
        } finally {
          client.close();
        }
      } finally {
        await target.stop();
      }
    });
  }

  const py = discoverPythons().at(-1)!;
  test(`a process without asyncio is told so, and asyncio stays unimported (${py.label})`, async () => {
    const target = await startAgentTarget(py);
    try {
      const client = await target.attach();
      try {
        const { ctx, out } = commandContext(target.pid, { agent: client });
        await runLine(ctx, 'stack -a');
        assert.deepEqual(out.records[0], { pid: target.pid, asyncio: false });
        assert.deepEqual(out.lines.join('\n').split('\n'), [
          'Async Coroutine/Task Stacks',
          `No active coroutines/async tasks found: process ${target.pid} has not imported asyncio (no event loops, no tasks)`,
        ]);
        assert.equal(((await client.call('eval', { expr: "'asyncio' in sys.modules" })) as RenderedNode).repr, 'False');
        await assert.rejects(runLine(ctx, 'stack 1 -a'), /stack -a reads the attached process only/);
      } finally {
        client.close();
      }
    } finally {
      await target.stop();
    }
    const help = await runCli(['dump', '--help']);
    assert.match(help.stdout.replace(/\s+/g, ' '), /--async every asyncio task instead .* This one ATTACHES/);
  });
});
