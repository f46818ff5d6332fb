// Collapsed ("folded") stacks as spyglass, py-spy and pyflame write them: one
// `frame;frame;frame COUNT` line per stack, root first.
import type { StackTable } from '../stack-table.js';
import { ProfileFormatError } from './errors.js';
import { FrameInterner, splitLabel } from './labels.js';

export function parseCollapsed(text: string, title: string): StackTable {
  const frames = new FrameInterner();
  const stacks = new Map<string, [number[], number]>();
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) return;
    const sp = line.lastIndexOf(' ');
    const count = sp > 0 ? Number(line.slice(sp + 1)) : NaN;
    if (!Number.isFinite(count) || count < 0 || !line.slice(0, sp).trim()) {
      throw new ProfileFormatError(`line ${i + 1} is not "frame;frame;... COUNT": ${JSON.stringify(line.slice(0, 80))}`);
    }
    const stackText = line.slice(0, sp);
    const ids = stackText.split(';').map((l) => frames.id(splitLabel(l)));
    const known = stacks.get(stackText);
    if (known) known[1] += count;
    else stacks.set(stackText, [ids, count]);
  });
  if (!stacks.size) throw new ProfileFormatError('no stacks in the file');
  return { title, subtitle: `collapsed stacks · ${stacks.size} unique stacks`, frames: frames.frames, stacks: [...stacks.values()] };
}
