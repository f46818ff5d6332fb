// Terminal text for an object rendered by the agent's shared renderer
// (agent/spyglass_agent/render.py): a node {type, repr, len?, children?, truncated?,
// cycle?, error?} becomes Python-literal-like indented text. `--json` output sends the
// node itself (it is already typed JSON), so this file is only about people.
import type { RenderedNode } from '../channel/protocol.js';
import type { OptionSpec } from './args.js';

const BRACKETS: Record<string, [string, string]> = {
  list: ['[', ']'],
  tuple: ['(', ')'],
  set: ['{', '}'],
  frozenset: ['frozenset({', '})'],
  dict: ['{', '}'],
};

function leaf(node: RenderedNode): string {
  let text = node.repr;
  if (node.truncated && !node.children) text += ` ...(${node.truncated} more chars)`;
  if (node.error) text += `  <${node.error}>`;
  return text;
}

/** Multi-line text of a node; `indent` is the indentation of the lines after the first. */
export function formatValue(node: RenderedNode, indent = ''): string {
  if (!node.children || node.cycle) return leaf(node);
  const inner = indent + '  ';
  const isMapping = node.children.some((c) => c.key !== undefined);
  const isSequence = node.len !== undefined && !isMapping;
  let open: string;
  let close: string;
  const plain = BRACKETS[node.type];
  if (plain) [open, close] = plain;
  else if (isMapping) [open, close] = [`${node.type}({`, '})'];
  else if (isSequence) [open, close] = [`${node.type}([`, '])'];
  else [open, close] = [`${node.type}(`, ')'];
  const lines = node.children.map((c) => {
    if (c.key !== undefined) return `${inner}${formatValue(c.key, inner)}: ${formatValue(c.value, inner)},`;
    if (isSequence) return `${inner}${formatValue(c.value, inner)},`;
    return `${inner}${c.name}=${formatValue(c.value, inner)},`;
  });
  if (node.truncated) lines.push(`${inner}...(${node.truncated} more${isSequence || isMapping ? ` of ${node.len}` : ''})`);
  if (!lines.length) return leaf(node);
  return [open, ...lines, indent + close].join('\n');
}

/** One line, cut to width: for tables. */
export function shortValue(text: string, width = 80): string {
  const one = text.replace(/\s*\n\s*/g, ' ');
  return one.length <= width ? one : one.slice(0, width - 1) + '…';
}

/** -x/-r/-v as the reference grammar spells them for watch, getglobal, vmtool and tt. */
export const RENDER_OPTIONS: OptionSpec[] = [
  {
    names: ['-x', '--expand'],
    key: 'expand',
    kind: 'int',
    default: 1,
    min: 1,
    max: 6,
    special: [-1],
    metavar: '<value>',
    description: 'how many levels of the object to expand (1-6; -1: all, within the time and size limits)',
  },
  { names: ['-r', '--raw'], key: 'raw', kind: 'flag', default: false, description: 'show repr() of the object as it is' },
  {
    names: ['-v', '--verbose'],
    key: 'verbose',
    kind: 'flag',
    default: false,
    description: 'show every item of lists/dicts (else the first 100)',
  },
];

/** How deep and how much of a value the agent renders. */
export interface RenderRequest {
  expand: number;
  raw: boolean;
  verbose: boolean;
}

/** The agent arguments those options become. */
export function renderArgs(options: Record<string, string | number | boolean | undefined>): RenderRequest {
  return { expand: options.expand as number, raw: options.raw as boolean, verbose: options.verbose as boolean };
}
