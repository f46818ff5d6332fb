// getglobal on every interpreter: module globals and class attributes of classes defined
// in __main__, -e over target, -x depth, -r, did-you-mean for unknown names, --json nodes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getglobalCommand as cmd } from '../../src/commands/getglobal.js';
import type { ValueNode } from '../../src/commands/value-text.js';
import { startInside } from '../helpers/inside.js';
import { discoverPythons } from '../helpers/pythons.js';

describe('getglobal', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    test(py.label, async () => {
      const t = await startInside(py);
      try {
        // a module global, expanded two levels: nested dict values are shown
        let out = await t.run(cmd, '__main__ CONFIG -x 2');
        const cfg = out.records[0].value as ValueNode;
        assert.equal(cfg.type, 'dict');
        const db = cfg.children!.find((c) => c.key?.repr === "'db'")!.value;
        assert.deepEqual(db.children!.map((c) => [c.key!.repr, c.value.repr]), [["'host'", "'db.local'"], ["'port'", '5432']]);
        assert.match(out.lines.join('\n'), /'host': 'db.local',/);
        // -x 1: the nested dict is a one-line summary, not expanded
        out = await t.run(cmd, '__main__ CONFIG');
        const db1 = (out.records[0].value as ValueNode).children!.find((c) => c.key?.repr === "'db'")!.value;
        assert.equal(db1.children, undefined);
        // a class attribute of a class defined in __main__, and the subclass's override
        out = await t.run(cmd, '__main__ Order kind');
        assert.equal((out.records[0].value as ValueNode).repr, "'plain'");
        out = await t.run(cmd, '__main__ RushOrder kind');
        assert.equal((out.records[0].value as ValueNode).repr, "'rush'");
        // -e over target
        out = await t.run(cmd, `__main__ CONFIG -e "target['db']['port'] + 1"`);
        assert.deepEqual([(out.records[0].value as ValueNode).type, (out.records[0].value as ValueNode).repr], ['int', '5433']);
        out = await t.run(cmd, '__main__ g_list -e len(target)');
        assert.equal((out.records[0].value as ValueNode).repr, '4');
        // -r: the plain repr, not expanded
        out = await t.run(cmd, '__main__ g_list -r');
        assert.equal((out.records[0].value as ValueNode).repr, "[1, 2, 3, {'k': 'v'}]");
        assert.equal((out.records[0].value as ValueNode).children, undefined);
        // an instance: attributes as children
        out = await t.run(cmd, '__main__ SERVICE');
        assert.equal((out.records[0].value as ValueNode).type, '__main__.Service');
        // unknown module / class / field: did-you-mean
        await assert.rejects(t.run(cmd, '__mian__ CONFIG'), /module '__mian__' is not loaded.*did you mean: __main__/);
        await assert.rejects(t.run(cmd, '__main__ Ordr kind'), /no class 'Ordr'.*did you mean: Order/);
        await assert.rejects(t.run(cmd, '__main__ CONFG'), /no attribute 'CONFG'.*did you mean: CONFIG/);
        await assert.rejects(t.run(cmd, '__main__ Order knd'), /Order has no attribute 'knd'.*did you mean: kind/);
        await assert.rejects(t.run(cmd, '__main__ CONFIG -e "target["'), /-e/);
        await assert.rejects(t.run(cmd, '__main__'), /expected `module \[class\] field`/);
      } finally {
        await t.stop();
      }
    });
  }
});
