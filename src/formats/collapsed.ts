// Collapsed ("folded") stacks: one line per unique stack, frames root first joined by
// ';', then a space and the sample count — the input flamegraph.pl, inferno and
// speedscope's importer read.
import type { StackProfile } from '../sampler/profile.js';

/** flamegraph.pl splits frames on ';' and lines on newlines: keep labels free of both. */
export function collapsedLabel(label: string): string {
  return label.replace(/;/g, ':').replace(/[\r\n]+/g, ' ');
}

export function toCollapsed(profile: StackProfile): string {
  const labels = profile.frames.map((_, i) => collapsedLabel(profile.label(i)));
  const lines: string[] = [];
  for (const st of profile.stacks) {
    if (st.count > 0 && st.frames.length > 0) lines.push(`${st.frames.map((f) => labels[f]).join(';')} ${st.count}`);
  }
  lines.sort();
  return lines.length ? lines.join('\n') + '\n' : '';
}
