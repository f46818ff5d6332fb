// vmtool on every interpreter: getInstances of a class defined in __main__ (subclass
// instances included and marked, -n, -n -1, -e over instances, did-you-mean) and forceGc
// (cyclic garbage made in the target is collected; counts per generation and time).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RenderedNode } from '../../src/channel/protocol.js';
import { vmtoolCommand as vmtool } from '../../src/commands/vmtool.js';
import { startInside } from '../helpers/inside.js';
import { discoverPythons } from '../helpers/pythons.js';

type Rec = Record<string, any>;

/** the attribute `name` of an instance node */
function attr(node: RenderedNode, name: string): string {
  const c = node.children?.find((x) => x.name === name);
  assert.ok(c, `no attribute ${name} in ${node.repr}`);
  return c.value.repr;
}

describe('vmtool', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    test(py.label, async () => {
      const t = await startInside(py);
      try {
        // Order has 3 instances of its own and one of its subclass RushOrder
        let out = await t.run(vmtool, '-a getInstances -c __main__ Order');
        let a = out.records[0] as Rec;
        assert.deepEqual([a.type, a.total, a.subclass_instances], ['__main__.Order', 4, 1]);
        const oids = a.instances.map((i: Rec) => [attr(i.value, 'oid'), i.subclass ?? null]);
        assert.deepEqual(oids.sort(), [
          ['0', null],
          ['1', null],
          ['2', null],
          ['99', '__main__.RushOrder'],
        ]);
        assert.match(out.lines[0], /^4 instances of __main__\.Order \(1 of subclasses\)$/);
        assert.equal(out.lines[1], 'INDEX  VALUE', 'the columns as the reference tool heads them');
        assert.match(
          out.lines.join('\n'),
          /^\[\d\] {2}\[subclass __main__\.RushOrder\] __main__\.RushOrder\(\n\s+oid=99,\n\s+amount=990,/m,
        );
        // -n: how many are shown (the total is still counted); -n -1: all
        out = await t.run(vmtool, '-a getInstances -c __main__ Order -n 2');
        a = out.records[0] as Rec;
        assert.deepEqual([a.total, a.instances.length], [4, 2]);
        assert.match(out.lines[0], /showing 2 \(-n -1 for all\)$/);
        a = (await t.run(vmtool, '-a getInstances -c __main__ Order -n -1')).records[0] as Rec;
        assert.equal(a.instances.length, 4);
        // the subclass alone: none of its instances is marked
        a = (await t.run(vmtool, '-a getInstances -c __main__ RushOrder')).records[0] as Rec;
        assert.deepEqual([a.total, a.subclass_instances, a.instances[0].subclass], [1, 0, undefined]);
        // -e over the list of instances
        a = (await t.run(vmtool, '-a getInstances -c __main__ Order -e "sorted(i.amount for i in instances)"')).records[0] as Rec;
        assert.deepEqual([a.value.type, a.value.children.map((c: Rec) => c.value.repr)], ['list', ['0', '10', '20', '990']]);
        // -r: repr only
        a = (await t.run(vmtool, '-a getInstances -c __main__ Service -r')).records[0] as Rec;
        assert.match(a.instances[0].value.repr, /^<__main__\.Service object at 0x/);
        assert.equal(a.instances[0].value.children, undefined);
        // the agent's own threads (and objects) are not the target's: never listed
        const threadNames = async (test: string) =>
          ((await t.run(vmtool, `-a getInstances -c threading Thread -e "[i.name for i in instances if ${test}]"`)).records[0] as Rec).value
            .repr;
        assert.equal(await threadNames("i.name == 'MainThread'"), "['MainThread']");
        assert.equal(await threadNames("i.name.startswith('spyglass-')"), '[]');
        // unknown names, bad grammar
        await assert.rejects(t.run(vmtool, '-a getInstances -c __main__ Ordr'), /no class 'Ordr'.*did you mean: Order/);
        await assert.rejects(t.run(vmtool, '-a getInstances -c __mian__ Order'), /did you mean: __main__/);
        await assert.rejects(t.run(vmtool, '-a getInstances -c __main__ Order -e "instances["'), /-e/);
        // -n 0: the count, no instance (the reference's check_limit takes 0)
        const counted = (await t.run(vmtool, '-a getInstances -c __main__ Order -n 0')).records[0] as Rec;
        assert.deepEqual([counted.total, counted.instances.length], [4, 0]);
        await assert.rejects(t.run(vmtool, '-a getInstances -c __main__ Order -n -2'), /-n must be at least -1/);
        await assert.rejects(t.run(vmtool, '-a getInstances -c __main__'), /needs `-c module class`/);
        await assert.rejects(t.run(vmtool, '-c __main__ Order'), /-a <action> is required/);

        // forceGc: 1000 unreachable cycles (automatic collection off) are freed by it
        await t.client.call('eval', { expr: 'make_garbage(1000)' });
        out = await t.run(vmtool, '-a forceGc');
        const g = out.records[0] as Rec;
        assert.deepEqual(
          g.generations.map((x: Rec) => x.generation),
          [0, 1, 2],
        );
        assert.equal(
          g.collected,
          g.generations.reduce((s: number, x: Rec) => s + x.collected, 0),
        );
        assert.ok(g.collected >= 1000, `collected ${g.collected}`);
        assert.ok(g.ms >= 0 && g.generations.every((x: Rec) => x.ms >= 0 && x.ms <= g.ms + 1));
        assert.equal(g.enabled, false);
        assert.match(
          out.lines[0],
          new RegExp(
            `^Gc execute successfully, totally ${g.collected} unreachable objects are freed \\(a full collection in \\d+\\.\\d\\d ms\\)$`,
          ),
        );
        assert.match(out.lines.join('\n'), /automatic collection is disabled in the target/);
        // nothing of it is left for a second collection
        const again = (await t.run(vmtool, '-a forceGc')).records[0] as Rec;
        assert.ok(again.collected < 1000, `collected ${again.collected} the second time`);
      } finally {
        await t.stop();
      }
    });
  }
});
