// A sampled profile (sampler/profile.ts) as the web page's StackTable: the same frame
// labels record's flame graph uses.
import { flameFrames, profileSubtitle } from '../formats/flamegraph.js';
import type { StackProfile } from '../sampler/profile.js';
import type { StackTable } from './stack-table.js';

export function stackTableOf(profile: StackProfile): StackTable {
  return {
    title: profile.meta.title || 'spyglass profile',
    subtitle: profileSubtitle(profile),
    frames: flameFrames(profile),
    stacks: profile.stacks.filter((s) => s.count > 0).map((s) => [s.frames, s.count]),
    rate: profile.meta.rate,
  };
}
