// getglobal on every interpreter: module globals and class attributes of classes defined
// in __main__, -e over target, -x depth, -r, -v, did-you-mean for unknown names, and the
// one-shot CLI's --json output (real JSON nodes with type names, not repr text).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getglobalCommand as cmd } from '../../src/commands/getglobal.js';
import type { RenderedNode } from '../../src/channel/protocol.js';
import { runCli } from '../helpers/cli.js';
import { startInside } from '../helpers/inside.js';
import { discoverPythons } from '../helpers/pythons.js';

describe('getglobal', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    test(py.label, async () => {
      const t = await startInside(py);
      try {
        // a module global, expanded two levels: nested dict values are shown
        let out = await t.run(cmd, '__main__ CONFIG -x 2');
        const cfg = out.records[0].value as RenderedNode;
        assert.equal(cfg.type, 'dict');
        const db = cfg.children!.find((c) => c.key?.repr === "'db'")!.value;
        assert.deepEqual(
          db.children!.map((c) => [c.key!.repr, c.value.repr]),
          [
            ["'host'", "'db.local'"],
            ["'port'", '5432'],
          ],
        );
        assert.match(out.lines.join('\n'), /'host': 'db.local',/);
        // -x 1: the nested dict is a one-line summary, not expanded
        out = await t.run(cmd, '__main__ CONFIG');
        const db1 = (out.records[0].value as RenderedNode).children!.find((c) => c.key?.repr === "'db'")!.value;
        assert.equal(db1.children, undefined);
        // a class attribute of a class defined in __main__, and the subclass's override
        out = await t.run(cmd, '__main__ Order kind');
        assert.equal((out.records[0].value as RenderedNode).repr, "'plain'");
        out = await t.run(cmd, '__main__ RushOrder kind');
        assert.equal((out.records[0].value as RenderedNode).repr, "'rush'");
        // -e over target
        out = await t.run(cmd, `__main__ CONFIG -e "target['db']['port'] + 1"`);
        assert.deepEqual([(out.records[0].value as RenderedNode).type, (out.records[0].value as RenderedNode).repr], ['int', '5433']);
        out = await t.run(cmd, '__main__ g_list -e len(target)');
        assert.equal((out.records[0].value as RenderedNode).repr, '4');
        // -r: the plain repr, not expanded
        out = await t.run(cmd, '__main__ g_list -r');
        assert.equal((out.records[0].value as RenderedNode).repr, "[1, 2, 3, {'k': 'v'}]");
        assert.equal((out.records[0].value as RenderedNode).children, undefined);
        // -v: every item, not the first 100 (with a count of what was left out)
        out = await t.run(cmd, '__main__ g_list -e "list(range(150))"');
        let node = out.records[0].value as RenderedNode;
        assert.deepEqual([node.len, node.children!.length, node.truncated], [150, 100, 50]);
        assert.match(out.lines.join('\n'), /^ {2}\.\.\.\(50 more of 150\)$/m);
        node = (await t.run(cmd, '__main__ g_list -e "list(range(150))" -v')).records[0].value as RenderedNode;
        assert.deepEqual([node.children!.length, node.children![149].value.repr, node.truncated], [150, '149', undefined]);
        // an instance: attributes as children
        out = await t.run(cmd, '__main__ SERVICE');
        assert.equal((out.records[0].value as RenderedNode).type, '__main__.Service');
        // unknown module / class / field: did-you-mean
        await assert.rejects(t.run(cmd, '__mian__ CONFIG'), /module __mian__ is not imported in the target.*did you mean: __main__/);
        await assert.rejects(t.run(cmd, '__main__ Ordr kind'), /no class 'Ordr'.*did you mean: Order/);
        await assert.rejects(t.run(cmd, '__main__ CONFG'), /no attribute 'CONFG'.*did you mean: CONFIG/);
        await assert.rejects(t.run(cmd, '__main__ Order knd'), /Order has no attribute 'knd'.*did you mean: kind/);
        await assert.rejects(t.run(cmd, '__main__ CONFIG -e "target["'), /-e/);
        await assert.rejects(t.run(cmd, '__main__'), /expected `module \[class\] field`/);
        // the one-shot CLI (its attach reuses the loaded agent): --json is JSON with type names
        const cli = await runCli([String(t.target.pid), '--json', '--cmd', 'getglobal __main__ ORDERS -x 2']);
        assert.equal(cli.code, 0, cli.stderr);
        const json = JSON.parse(cli.stdout) as { value: RenderedNode };
        assert.deepEqual([json.value.type, json.value.len], ['list', 4]);
        const last = json.value.children![3].value;
        assert.equal(last.type, '__main__.RushOrder');
        assert.deepEqual(
          last.children!.map((c) => [c.name, c.value.type, c.value.repr]),
          [
            ['oid', 'int', '99'],
            ['amount', 'int', '990'],
          ],
        );
      } finally {
        await t.stop();
      }
    });
  }
});
