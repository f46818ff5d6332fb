// Terminal text of the agent's value nodes (src/commands/value-text.ts): leaves with their
// truncation and error marks, containers indented one level per depth with counts of what
// was left out, objects as Type(name=value), cycles not followed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RenderedNode } from '../../src/channel/protocol.js';
import { formatValue, shortValue } from '../../src/commands/value-text.js';

const int = (n: number): RenderedNode => ({ type: 'int', repr: String(n) });
const str = (s: string): RenderedNode => ({ type: 'str', repr: `'${s}'` });

test('leaves: repr, cut strings with the count of characters left out, errors', () => {
  assert.equal(formatValue(int(5)), '5');
  assert.equal(formatValue({ type: 'str', repr: "'aaaa", truncated: 4002 }), "'aaaa ...(4002 more chars)");
  assert.equal(
    formatValue({ type: 'app.Bad', repr: '<app.Bad object at 0x1>', error: '__repr__ raised ValueError: x' }),
    '<app.Bad object at 0x1>  <__repr__ raised ValueError: x>',
  );
  // a container not expanded (beyond -x) is its summary repr
  assert.equal(formatValue({ type: 'list', repr: '[1, 2, ...(8 more)]', len: 10 }), '[1, 2, ...(8 more)]');
});

test('containers: one level of indentation per depth, counts of what was left out', () => {
  const node: RenderedNode = {
    type: 'dict',
    repr: '',
    len: 2,
    children: [
      { key: str('ids'), value: { type: 'list', repr: '', len: 150, children: [{ name: '0', value: int(7) }], truncated: 149 } },
      { key: str('t'), value: { type: 'tuple', repr: '', len: 1, children: [{ name: '0', value: str('x') }] } },
    ],
  };
  assert.equal(
    formatValue(node),
    ['{', "  'ids': [", '    7,', '    ...(149 more of 150)', '  ],', "  't': (", "    'x',", '  ),', '}'].join('\n'),
  );
  // the indent given applies to the lines after the first
  assert.equal(formatValue({ type: 'set', repr: '', len: 1, children: [{ name: '0', value: int(1) }] }, '>>'), '{\n>>  1,\n>>}');
});

test('objects, mapping and sequence subclasses carry their type name', () => {
  const obj: RenderedNode = {
    type: 'app.Order',
    repr: '<app.Order>',
    children: [
      { name: 'oid', value: int(1) },
      { name: 'cycle', value: { type: 'app.Order', repr: '<cycle: app.Order at 0x1>', cycle: true } },
    ],
  };
  assert.equal(formatValue(obj), 'app.Order(\n  oid=1,\n  cycle=<cycle: app.Order at 0x1>,\n)');
  const od: RenderedNode = { type: 'collections.OrderedDict', repr: '', len: 1, children: [{ key: str('a'), value: int(1) }] };
  assert.equal(formatValue(od), "collections.OrderedDict({\n  'a': 1,\n})");
  const pair: RenderedNode = { type: 'app.Pair', repr: 'Pair(left=1)', len: 1, children: [{ name: '0', value: int(1) }] };
  assert.equal(formatValue(pair), 'app.Pair([\n  1,\n])');
  // an object with no attributes to show is its repr
  assert.equal(formatValue({ type: 'app.Empty', repr: '<app.Empty>', children: [] }), '<app.Empty>');
});

test('shortValue: one line, cut to the width', () => {
  assert.equal(shortValue('a\n  b'), 'a b');
  assert.equal(shortValue('x'.repeat(20), 10), 'x'.repeat(9) + '…');
});
