// A value as the agent's renderer sends it (type, repr, children, truncated, cycle, error;
// src/channel/protocol.ts) drawn as an expandable tree: a value with children is a
// <details> whose summary is its type and one-line repr, opened one child level at a
// time. The agent bounds the tree (its depth by -x, its items by -v); nothing here
// guesses from repr text.
import type { RenderedNode } from '../../channel/protocol.js';
import { h } from './dom.js';

/** the summary line of a value: `type repr` cut to one line */
function oneLine(node: RenderedNode): string {
  const repr = node.repr.replace(/\s*\n\s*/g, ' ');
  return repr.length > 120 ? `${repr.slice(0, 119)}…` : repr;
}

function leafNotes(node: RenderedNode): string {
  const notes: string[] = [];
  if (node.truncated) notes.push(`${node.truncated} more${node.children ? (node.len !== undefined ? ` of ${node.len}` : '') : ' chars'}`);
  if (node.cycle) notes.push('shown above');
  if (node.error) notes.push(node.error);
  return notes.length ? ` (${notes.join('; ')})` : '';
}

/** `label` names the value in its parent: an index, an attribute, an argument's name */
export function valueTree(node: RenderedNode, label?: string): HTMLElement {
  const name = label !== undefined ? h('span', { class: 'v-name' }, `${label}: `) : null;
  const type = h('span', { class: 'v-type' }, node.type);
  if (!node.children?.length || node.cycle)
    return h('div', { class: 'v-leaf' }, name, type, ' ', h('span', { class: 'v-repr' }, node.repr), leafNotes(node));
  const body = h('div', { class: 'v-children' });
  const tree = h(
    'details',
    { class: 'v-node' },
    h('summary', {}, name, type, node.len !== undefined ? ` [${node.len}] ` : ' ', h('span', { class: 'v-repr' }, oneLine(node))),
    body,
  );
  // children are built when first opened: a wide value costs nothing until looked at
  tree.addEventListener('toggle', () => {
    if (body.childElementCount) return;
    for (const c of node.children ?? []) body.append(valueTree(c.value, c.key !== undefined ? c.key.repr : c.name));
    if (node.truncated) body.append(h('div', { class: 'muted' }, `... ${node.truncated} more`));
  });
  return tree;
}
