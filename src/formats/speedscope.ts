// speedscope's JSON file format (https://www.speedscope.app/file-format-schema.json):
// shared frames, and one "sampled" profile per thread whose samples are in time order,
// so speedscope's Time Order view shows what each thread did when.
import type { StackProfile } from '../sampler/profile.js';

export const SPEEDSCOPE_SCHEMA = 'https://www.speedscope.app/file-format-schema.json';

/**
 * Every key is present, null when unknown, as py-spy writes them: scripts written for
 * py-spy's files read each frame as (file, name, line, col), and speedscope loads them.
 * No column is read from the target.
 */
export interface SpeedscopeFrame {
  name: string;
  file: string | null;
  line: number | null;
  col: null;
}

export interface SpeedscopeSampledProfile {
  type: 'sampled';
  name: string;
  unit: 'seconds';
  startValue: number;
  endValue: number;
  /** frame indices, root first */
  samples: number[][];
  weights: number[];
}

export interface SpeedscopeFile {
  $schema: typeof SPEEDSCOPE_SCHEMA;
  shared: { frames: SpeedscopeFrame[] };
  profiles: SpeedscopeSampledProfile[];
  name: string;
  activeProfileIndex: number;
  exporter: string;
}

export function toSpeedscope(profile: StackProfile, exporter = 'spyglass'): SpeedscopeFile {
  const frames: SpeedscopeFrame[] = profile.frames.map((f, i) =>
    f.kind === 'python'
      ? { name: f.name, file: f.filename, line: f.line > 0 ? f.line : null, col: null }
      : f.kind === 'native'
        ? { name: profile.label(i), file: f.source ?? f.filename, line: f.source && f.line > 0 ? f.line : null, col: null }
        : { name: profile.label(i), file: null, line: null, col: null },
  );
  const weight = 1 / profile.meta.rate;
  const sampled = (name: string, samples: number[][], weights: number[]): SpeedscopeSampledProfile => ({
    type: 'sampled',
    name,
    unit: 'seconds',
    startValue: 0,
    endValue: weights.reduce((a, b) => a + b, 0),
    samples,
    weights,
  });
  const profiles: SpeedscopeSampledProfile[] = [];
  if (profile.keepsTimeline) {
    const pids = new Set([...profile.timelines.values()].map((t) => t.pid));
    for (const tl of profile.timelines.values()) {
      const id = tl.nativeTid !== undefined ? String(tl.nativeTid) : `0x${tl.threadId.toString(16)}`;
      const name = `${pids.size > 1 ? `Process ${tl.pid} ` : ''}Thread ${id}${tl.name ? ` "${tl.name}"` : ''}`;
      profiles.push(
        sampled(
          name,
          tl.stacks.map((s) => profile.stacks[s].frames),
          tl.stacks.map(() => weight),
        ),
      );
    }
  } else {
    // no time order was kept: one profile of the aggregated stacks
    const stacks = profile.stacks.filter((s) => s.count > 0);
    profiles.push(
      sampled(
        profile.meta.title || 'profile',
        stacks.map((s) => s.frames),
        stacks.map((s) => s.count * weight),
      ),
    );
  }
  return {
    $schema: SPEEDSCOPE_SCHEMA,
    shared: { frames },
    profiles,
    name: profile.meta.title || 'spyglass profile',
    // open on the busiest thread
    activeProfileIndex: profiles.reduce((best, p, i) => (p.samples.length > profiles[best].samples.length ? i : best), 0),
    exporter,
  };
}
