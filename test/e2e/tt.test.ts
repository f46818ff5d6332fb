// tt on every interpreter: -t (with -n, -f, -nm), -l (-m, -f), -i (-x, -r, -v), -p (a
// method whose argument the caller mutated after the call, an async def), -d, -da
// (numbering from 1000 again), indexes from 1000, records kept in the agent for every
// client (across detach, reset and two one-shot runs) until -d/-da, MODULE/CLASS/METHOD
// and ARGS/KWARGS, a -f that raises told at once, hooks removed when recording ends, the
// memory cap holding under a flood of large calls, and -n honoured when calls come faster
// than records can be streamed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tokenize } from '../../src/commands/args.js';
import { resetCommand } from '../../src/commands/reset.js';
import { ttCommand as tt } from '../../src/commands/tt.js';
import type { RenderedNode } from '../../src/channel/protocol.js';
import { startAgentTarget } from '../helpers/agent-target.js';
import { runCli } from '../helpers/cli.js';
import { commandContext, type CapturedOutput } from '../helpers/command-context.js';
import { startInside, type InsideTarget } from '../helpers/inside.js';
import { discoverPythons } from '../helpers/pythons.js';

type Rec = Record<string, any>;

/** the record events of a `tt -t` run (the end record excluded) */
function recorded(out: CapturedOutput): Rec[] {
  return out.records.filter((r) => typeof r.index === 'number');
}

function endOf(out: CapturedOutput): Rec {
  const end = out.records.find((r) => r.end);
  assert.ok(end, 'tt -t ended without its summary');
  return end;
}

async function list(t: InsideTarget, extra = ''): Promise<Rec> {
  return (await t.run(tt, `-l ${extra}`)).records[0];
}

async function show(t: InsideTarget, line: string): Promise<Rec> {
  return (await t.run(tt, line)).records[0];
}

/** the value node of dict `node` under key `key` (a str key) */
function item(node: RenderedNode, key: string): RenderedNode {
  const c = node.children?.find((x) => x.key?.repr === `'${key}'`);
  assert.ok(c, `no key ${key} in ${node.repr}`);
  return c.value;
}

async function assertRestored(t: InsideTarget): Promise<void> {
  const node = (await t.client.call('eval', { expr: 'codes_restored()' })) as RenderedNode;
  assert.equal(node.repr, 'True', 'a recorded function still runs a hook wrapper');
}

describe('tt', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    test(`record, list, show, replay, delete on ${py.label}`, async () => {
      const t = await startInside(py);
      try {
        // -t with -n: exactly 3 records, indexed from 1000, the argument as the call saw it
        let out = await t.run(tt, '-t __main__ Service process -n 3');
        const procs = recorded(out);
        assert.deepEqual(
          procs.map((r) => r.index),
          [1000, 1001, 1002],
        );
        assert.ok(procs.every((r) => r.method === '__main__.Service.process' && r.is_return && !r.is_exception));
        assert.ok(procs.every((r) => r.module === '__main__' && r.class === 'Service' && r.function === 'process'));
        assert.deepEqual([endOf(out).recorded, endOf(out).records, endOf(out).reason], [3, 3, 'limit']);
        assert.match(out.lines[0], /^INDEX\s+TIMESTAMP\s+COST\(ms\)\s+IS-RET\s+IS-EXP\s+MODULE\s+CLASS\s+METHOD$/);
        assert.match(
          out.lines.join('\n'),
          /^1000 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +\d+\.\d{3} +true +false +__main__ +Service +process$/m,
        );
        await assertRestored(t);

        // -i: self kept by reference, `order` a copy taken at call time: the caller appended
        // 1000 to order['items'] right after the call, the record still has two items
        let d = await show(t, '-i 1000');
        assert.deepEqual(
          d.args.map((a: Rec) => [a.name, a.copied]),
          [
            ['self', false],
            ['order', true],
          ],
        );
        assert.match(d.args[0].kept, /self: kept by reference/);
        assert.equal(d.args[0].value.type, '__main__.Service');
        const order = d.args[1].value as RenderedNode;
        const n = Number(item(order, 'id').repr);
        const items = item(order, 'items');
        assert.deepEqual([items.len, items.repr], [2, `[${n}, ${n + 1}]`]);
        assert.equal(items.children, undefined, '-x 1 expands one level only');
        assert.equal(item(d.result.value, 'total').repr, String((2 * n + 1) * 2));
        // -x 2: the items list is expanded too; -r: plain repr text only
        d = await show(t, '-i 1000 -x 2');
        assert.deepEqual(
          item(d.args[1].value, 'items').children!.map((c) => c.value.repr),
          [String(n), String(n + 1)],
        );
        d = await show(t, '-i 1000 -r');
        assert.equal(d.args[1].value.repr, `{'id': ${n}, 'items': [${n}, ${n + 1}]}`);
        assert.equal(d.args[1].value.children, undefined);
        out = await t.run(tt, '-i 1000 -x 2');
        const text = out.lines.join('\n');
        assert.match(text, /^MODULE +__main__\nCLASS +Service\nMETHOD +process$/m);
        // the reference's labels
        assert.match(text, /^INDEX +1000\nGMT-CREATE +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} {2}\(thread .+\)\nCOST\(ms\) +\d+\.\d{3}$/m);
        assert.match(text, /^IS_RETURN +true\nIS_EXCEPTION +false$/m);
        assert.match(text, /^RETURN_OBJ +\{$/m);
        assert.match(
          text,
          new RegExp(
            `^ARGS\\n  self +.*\\[self: kept by reference.*\\n  order +\\{\\n +'id': ${n},\\n +'items': \\[\\n +${n},\\n +${n + 1},`,
            'm',
          ),
        );
        assert.match(text, /^KWARGS +\{\}$/m);

        // -p: the current method called again with the recorded values (not the mutated
        // list, which would add 1000 to the total), stored as a new record
        d = await show(t, '-i 1000 -p');
        assert.deepEqual([d.index, d.replay_of, d.is_return, d.thread], [1003, 1000, true, 'spyglass-tt-replay-1000']);
        assert.equal(item(d.result.value, 'total').repr, String((2 * n + 1) * 2));
        assert.equal(item(d.result.value, 'id').repr, String(n));
        // the replay did not change the record it replayed
        d = await show(t, '-i 1000 -x 2');
        assert.equal(item(d.args[1].value, 'items').len, 2);

        // an exception is recorded with its type, message and traceback
        out = await t.run(tt, '-t __main__ Service fail -n 1');
        const fail = recorded(out)[0];
        assert.deepEqual([fail.index, fail.is_return, fail.is_exception], [1004, false, true]);
        assert.match(fail.result, /^ValueError: bad order \d+$/);
        d = await show(t, '-i 1004');
        assert.match((await t.run(tt, '-i 1004')).lines.join('\n'), /^RAISE-EXCEPTION ValueError: bad order \d+$/m);
        assert.equal(d.exception.type, 'ValueError');
        assert.match(d.exception.traceback, /in fail\n/);
        assert.doesNotMatch(d.exception.traceback, /spyglass_agent/);
        assert.equal(d.result, null);

        // an async def: recorded with its awaited value, replayed on a fresh event loop
        out = await t.run(tt, '-t __main__ Service fetch -n 1');
        const fetch = recorded(out)[0];
        const fetchArg = Number(/^\((\d+),\)$/.exec(fetch.args)![1]);
        assert.equal(fetch.result, String(fetchArg * 3));
        d = await show(t, `-i ${fetch.index} -p`);
        assert.deepEqual([d.replay_of, d.result.value.repr], [fetch.index, String(fetchArg * 3)]);

        // -f over args and return_obj: only matching calls use up -n
        out = await t.run(tt, `-t __main__ handle -n 2 -f "args[0]['query']=='hello' and return_obj['success']"`);
        const hellos = recorded(out);
        assert.equal(hellos.length, 2);
        for (const r of hellos) assert.match(r.args, /'query': 'hello'/);
        // -nm: the function nested in outer, one call of it
        out = await t.run(tt, '-t __main__ outer -nm inner -n 1');
        const inner = recorded(out)[0];
        assert.deepEqual(
          [inner.method, inner.module, inner.class, inner.function],
          ['__main__.outer.inner', '__main__', null, 'outer.inner'],
        );
        const x = Number(/^\((\d+),\)$/.exec(inner.args)![1]);
        assert.equal(Number(inner.result), x + x / 2);
        await assert.rejects(t.run(tt, `-i ${inner.index} -p`), /nested function/);
        await assertRestored(t);

        // -l lists all; -m filters by module.class.method (None: a module function)
        let l = await list(t);
        assert.deepEqual(
          l.records.map((r: Rec) => r.index),
          [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009],
        );
        l = await list(t, '-m __main__.Service.process');
        assert.deepEqual(
          l.records.map((r: Rec) => r.index),
          [1000, 1001, 1002, 1003],
        );
        l = await list(t, '-m __main__.None.handle');
        assert.deepEqual(
          l.records.map((r: Rec) => r.index),
          [1007, 1008],
        );
        assert.deepEqual(
          l.records.map((r: Rec) => r.method),
          ['__main__.handle', '__main__.handle'],
        );
        assert.deepEqual(
          (await list(t, '-m __main__.handle')).records.map((r: Rec) => r.index),
          [1007, 1008],
        );
        assert.equal(l.total, 10);
        out = await t.run(tt, '-l -m __main__.handle');
        assert.match(out.lines.join('\n'), /^1007 +\S+ \S+ +\d+\.\d{3} +true +false +__main__ +- +handle$/m);
        // -l -f: the records the expression holds for, over the recorded values (the two
        // handle calls were one 'hello' and one 'other'; process records raise: not listed)
        const byFilter = async (f: string) => (await list(t, `-f ${f}`)).records.map((r: Rec) => r.index);
        const hello = await byFilter(`args[0]['query']=='hello'`);
        const notHello = await byFilter(`args[0]['query']=='other'`);
        assert.deepEqual([...hello, ...notHello].sort(), [1007, 1008]);
        assert.deepEqual(await byFilter(`return_obj['success']==True and cost>=0`), hello);
        assert.equal((await byFilter('cost>=0')).length, 10);
        out = await t.run(tt, '-l -f cost<0');
        assert.match(out.lines.join('\n'), /^no records of -f cost<0 \(10 in all\)$/m);

        // -d one, -d a missing one, then -da
        out = await t.run(tt, '-d 1001');
        assert.deepEqual(out.records[0], { deleted: 1001, left: 9 });
        assert.equal(out.lines[0], 'Index 1001 is deleted successfully; 9 record(s) left');
        await assert.rejects(t.run(tt, '-d 1001'), /no record 1001/);
        await assert.rejects(t.run(tt, '-i 1001'), /no record 1001/);
        assert.ok(!(await list(t)).records.some((r: Rec) => r.index === 1001));
        out = await t.run(tt, '-da');
        assert.equal(out.records[0].deleted, 9);
        assert.equal((await list(t)).total, 0);
        // numbered from 1000 again, as the reference's -da does
        out = await t.run(tt, '-t __main__ handle -n 1');
        assert.equal(recorded(out)[0].index, 1000);

        // records belong to the agent: another client sees them and adds to them; they stay
        // when it detaches, and when this one resets (which removes hooks only)
        const other = await t.target.connect();
        try {
          assert.deepEqual(
            ((await t.run(tt, '-l', { client: other })).records[0] as Rec).records.map((r: Rec) => r.index),
            [1000],
          );
          await t.run(tt, '-t __main__ handle -n 1', { client: other });
        } finally {
          await other.detach();
        }
        assert.deepEqual(
          (await list(t)).records.map((r: Rec) => r.index),
          [1000, 1001],
        );
        await t.run(resetCommand, '');
        assert.deepEqual(
          (await list(t)).records.map((r: Rec) => r.index),
          [1000, 1001],
        );
        d = await show(t, '-i 1001 -p');
        assert.equal(d.replay_of, 1001);
        await t.run(tt, '-da');
        assert.equal((await list(t)).total, 0);

        // a -f that raises on every call is told at once, not when -n is reached (it never is)
        out = await t.run(tt, '-t __main__ handle -f args[0]["nosuch"] -n 5', { until: (r) => Boolean(r.filter_error) });
        const notice = out.records.find((r) => r.filter_error) as Rec;
        assert.match(notice.filter_error, /^KeyError: 'nosuch'/);
        assert.ok(
          out.notes.some((n) => /^-f raised KeyError: 'nosuch'; calls it raises on are not recorded$/.test(n)),
          out.notes.join('|'),
        );
        assert.equal(recorded(out).length, 0);
        await assertRestored(t);

        // two one-shot runs: what the first records, the second lists, a third replays
        const oneShot = async (line: string) => {
          const r = await runCli([String(t.target.pid), '--json', '--cmd', line]);
          assert.equal(r.code, 0, r.stderr);
          return r.stdout
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as Rec);
        };
        const made = (await oneShot('tt -t __main__ handle -n 2')).filter((r) => typeof r.index === 'number').map((r) => r.index);
        assert.equal(made.length, 2);
        assert.deepEqual(
          (await oneShot('tt -l'))[0].records.map((r: Rec) => [r.index, r.method]),
          made.map((i) => [i, '__main__.handle']),
        );
        assert.equal((await oneShot(`tt -i ${made[0]} -p`))[0].replay_of, made[0]);
        await assertRestored(t);

        // grammar
        await assert.rejects(t.run(tt, '-l -da'), /choose one of/);
        await assert.rejects(t.run(tt, '-p'), /-p needs -i/);
        await assert.rejects(t.run(tt, '-t __main__ Service nosuch'), /no method nosuch/);
      } finally {
        await t.stop();
      }
    });

    test(`-v shows every item on ${py.label}`, async () => {
      const t = await startInside(py);
      try {
        const out = await t.run(tt, '-t __main__ total -n 1');
        const index = recorded(out)[0].index;
        let d = await show(t, `-i ${index}`);
        let values = d.args[0].value as RenderedNode;
        assert.deepEqual([values.len, values.children!.length, values.truncated], [150, 100, 50]);
        const text = (await t.run(tt, `-i ${index}`)).lines.join('\n');
        assert.match(text, /\.\.\.\(50 more of 150\)/);
        d = await show(t, `-i ${index} -v`);
        values = d.args[0].value as RenderedNode;
        assert.deepEqual([values.children!.length, values.truncated], [150, undefined]);
        assert.equal(
          Number(d.result.value.repr),
          values.children!.reduce((s, c) => s + Number(c.value.repr), 0),
        );
      } finally {
        await t.stop();
      }
    });

    test(`a value over the memory cap is not kept on ${py.label}`, async () => {
      const t = await startInside(py);
      try {
        const { ctx, out } = commandContext(t.target.pid, { agent: t.client });
        const running = tt.run(ctx, tokenize('-t __main__ big -n 1 --max-mem 1'));
        while (!out.notes.some((n) => n.startsWith('recording __main__.big'))) await new Promise((r) => setTimeout(r, 20));
        await t.client.call('eval', { expr: 'BIG_CALL.set()' }); // big(3 MiB of bytes) on the target's thread
        await running;
        const index = recorded(out)[0].index;
        const d = await show(t, `-i ${index}`);
        assert.equal(d.values_dropped, true);
        assert.deepEqual(
          [d.args[0].copied, d.args[0].kept, d.args[0].value.repr],
          [false, 'not kept: ~3 MiB, over the 1 MiB memory cap', 'None'],
        );
        assert.equal(d.result.value.repr, String(3 << 20));
        assert.ok((await list(t)).bytes_held < 64 * 1024);
        await assert.rejects(t.run(tt, `-i ${index} -p`), /kept no arguments/);
      } finally {
        await t.stop();
      }
    });

    test(`memory cap under a flood of large calls on ${py.label}`, async () => {
      // big(blob) is called every 10 ms with a fresh 256 KiB bytes object
      const t = await startInside(py, ['--flood']);
      try {
        const out = await t.run(tt, '-t __main__ big -n 30 --max-mem 1');
        assert.equal(recorded(out).length, 30);
        const notices = out.records.filter((r) => r.notice) as Rec[];
        assert.ok(notices.length >= 20, `expected a dropped-oldest notice for most calls, got ${notices.length}`);
        assert.match(notices[0].notice, /^memory cap of 1 MiB reached: dropped the oldest record/);
        assert.ok(out.notes.some((n) => /memory cap of 1 MiB reached/.test(n)));
        const dropped = notices.flatMap((r) => r.dropped as number[]);
        const l = await list(t);
        // what is left is the newest records, within the cap, and every other one was dropped
        assert.ok(l.bytes_held <= 1024 * 1024, `${l.bytes_held} bytes held`);
        assert.ok(l.records.length >= 1 && l.records.length <= 4, `${l.records.length} records kept`);
        assert.equal(l.records.at(-1).index, 1029);
        assert.deepEqual(
          [...dropped, ...l.records.map((r: Rec) => r.index)].sort((a, b) => a - b),
          Array.from({ length: 30 }, (_, i) => 1000 + i),
        );
        assert.equal(l.dropped_for_cap, dropped.length);
        assert.equal(endOf(out).dropped, dropped.length);
        assert.ok(
          out.notes.some((n) => n.includes(`(${dropped.length} oldest dropped for the memory cap)`)),
          out.notes.join('|'),
        );
        // the last record kept what its call carried: the 256 KiB argument
        const d = await show(t, '-i 1029');
        assert.deepEqual([d.values_dropped, d.result.value.repr], [false, String(256 * 1024)]);
        await assertRestored(t);
      } finally {
        await t.stop();
      }
    });
  }
});

describe('tt under a call rate faster than records can be streamed', () => {
  const py = discoverPythons().find((p) => p.minor === '3.12') ?? discoverPythons()[0];
  test(`-n is honoured and the command ends on ${py.label}`, async () => {
    // inside_bench.py calls handle() in a tight loop: the hand-off to the streaming thread
    // overflows, and tt -t must still end once -n calls are recorded (they all are kept)
    const target = await startAgentTarget(py, { script: 'inside_bench.py' });
    try {
      const client = await target.attach();
      try {
        const { ctx, out } = commandContext(target.pid, { agent: client });
        await tt.run(ctx, tokenize('-t __main__ handle -n 3000'));
        const end = endOf(out);
        assert.deepEqual([end.reason, end.records, end.recorded + end.lost], ['limit', 3000, 3000]);
        assert.equal(recorded(out).length, end.recorded);
        if (end.lost) assert.ok(out.notes.some((n) => n.startsWith(`${end.lost} records were made faster than they could be shown`)));
        const l = (await client.call('tt', { action: 'list' })) as Rec;
        assert.deepEqual([l.total, l.records[0].index, l.records.at(-1).index], [3000, 1000, 3999]);
      } finally {
        client.close();
      }
    } finally {
      await target.stop();
    }
  });
});
