// mem on every interpreter, against test/targets/mem_app.py with the agent loaded (bootstrap run as the injector would): summary
// counts the 1234 Widgets, diff sees Leak grow (sign and magnitude checked against what
// the target says it appended), top names the allocating line and leaves tracemalloc
// stopped, refs leads to the module global and to a thread's local variable.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tokenize } from '../../src/commands/args.js';
import { memCommand as cmd } from '../../src/commands/mem.js';
import { startAgentTarget } from '../helpers/agent-target.js';
import { commandContext } from '../helpers/command-context.js';
import { discoverPythons } from '../helpers/pythons.js';
import { TARGETS_DIR, type Target } from '../helpers/targets.js';

const SCRIPT = join(TARGETS_DIR, 'mem_app.py');
const ALLOC_LINE =
  readFileSync(SCRIPT, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes('# ALLOC-LINE')) + 1;

/** The last "LEAKS n" the target printed. */
function leaksSoFar(target: Target): number {
  const all = [...target.stdout().matchAll(/^LEAKS (\d+)$/gm)];
  return all.length ? Number(all[all.length - 1][1]) : 0;
}

function tracingStates(target: Target): number[] {
  return [...target.stdout().matchAll(/^TRACING (\d)$/gm)].map((m) => Number(m[1]));
}

describe('mem', { concurrency: 2 }, () => {
  for (const py of discoverPythons()) {
    test(py.label, async (t) => {
      const target = await startAgentTarget(py, { script: 'mem_app.py' });
      t.after(() => target.stop());
      const client = await target.attach();
      t.after(() => client.close());
      const run = async (line: string) => {
        const { ctx, out } = commandContext(target.pid, { agent: client });
        await cmd.run(ctx, tokenize(line));
        return out;
      };

      // summary: all 1234 widgets, rows largest first, a total line
      let out = await run('summary --limit 400');
      const sum = out.records[0] as { rows: Array<{ type: string; count: number; size: number }>; total_count: number; total_size: number };
      const widget = sum.rows.find((r) => r.type === '__main__.Widget');
      assert.equal(widget?.count, 1234, JSON.stringify(sum.rows.slice(0, 20)));
      const sizes = sum.rows.map((r) => r.size);
      assert.deepEqual(
        sizes,
        [...sizes].sort((a, b) => b - a),
      );
      assert.ok(sum.rows.find((r) => r.type === 'str')!.count > 1000, 'atoms (str) are counted');
      assert.ok(sum.total_count >= sum.rows.reduce((a, r) => a + r.count, 0));
      assert.match(out.lines.join('\n'), /^\s*1234\s+\S+ \S+\s+\S+%\s+__main__\.Widget$/m);
      assert.match(out.lines[out.lines.length - 1], /^total: \d+ objects of \d+ types, /);
      out = await run('summary --limit 3 --order ascending');
      const asc = (out.records[0] as typeof sum).rows;
      assert.equal(asc.length, 3);
      assert.ok(asc[0].size <= asc[1].size && asc[1].size <= asc[2].size);

      // diff: Leak grows; its delta is positive and of the order of what the target appended
      const before = leaksSoFar(target);
      out = await run('diff --interval 2 --limit 50');
      const after = leaksSoFar(target);
      const diff = out.records[0] as { rows: Array<{ type: string; count_delta: number; size_delta: number }> };
      const leak = diff.rows.find((r) => r.type === '__main__.Leak');
      assert.ok(leak, JSON.stringify(diff.rows.slice(0, 10)));
      assert.ok(
        leak.count_delta > 0 && leak.count_delta <= after - before + 10,
        `Leak +${leak.count_delta}, target appended ${after - before}`,
      );
      assert.ok(leak.count_delta >= (after - before) / 10, `Leak +${leak.count_delta}, target appended ${after - before}`);
      const bytesRow = diff.rows.find((r) => r.type === 'bytes')!;
      assert.ok(bytesRow.size_delta >= leak.count_delta * 1000, 'each Leak brought a payload of >= 1000 bytes');
      assert.match(out.lines.join('\n'), /\+\d+\s+\S+ \S+\s+\+\S+ \S+\s+__main__\.Leak/);

      // top: the allocating line, and tracemalloc off again afterwards
      assert.deepEqual(tracingStates(target), [0]);
      out = await run('top --interval 1.5 --limit 5');
      const topA = out.records[0] as { rows: Array<{ file: string; line: number; size_delta: number }>; already_tracing: boolean };
      assert.equal(topA.already_tracing, false);
      assert.ok(topA.rows[0].file.endsWith('mem_app.py') && topA.rows[0].line === ALLOC_LINE, JSON.stringify(topA.rows));
      assert.ok(topA.rows[0].size_delta > 10000);
      assert.match(out.lines.join('\n'), new RegExp(`mem_app\\.py:${ALLOC_LINE}\\s+payload = bytes\\(1000 \\+ i\\)`));
      // a batch that began after the command ended has printed the state it saw
      const n = leaksSoFar(target);
      for (const deadline = Date.now() + 15000; leaksSoFar(target) < n + 2 * 10 && Date.now() < deadline; )
        await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(tracingStates(target), [0, 1, 0], 'tracemalloc started for the interval, stopped after');

      // refs: to the module global, and to a thread's local variable
      out = await run('refs __main__ Leak');
      const viaGlobal = out.records[0] as {
        root: { kind: string; module: string; name: string };
        chain: Array<{ type: string; edge?: string }>;
      };
      assert.deepEqual(viaGlobal.root, { kind: 'module', module: '__main__', name: 'REGISTRY' });
      assert.deepEqual(viaGlobal.chain.map((s) => s.type).slice(1), ['dict', 'list', '__main__.Leak']);
      assert.equal(viaGlobal.chain[1].edge, "['leaks']");
      assert.match(out.lines.join('\n'), /root: the global REGISTRY of module __main__/);
      out = await run('refs __main__ Holder');
      const viaFrame = out.records[0] as { root: { kind: string; thread: string; function: string; name: string } };
      assert.deepEqual(
        [viaFrame.root.kind, viaFrame.root.thread, viaFrame.root.function, viaFrame.root.name],
        ['frame', 'keeper', 'keeper', 'held'],
      );

      // errors
      await assert.rejects(run('refs __main__ Nope'), /Nope/);
      await assert.rejects(run('refs __main__'), /expected `module class`/);
      await assert.rejects(run('summary --interval 3'), /takes no --interval/);
      await assert.rejects(run('grow'), /expected summary, diff, top or refs/);
    });
  }
});
