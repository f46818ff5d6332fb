// Chrome's Trace Event format (the JSON array form), which Perfetto and chrome://tracing
// open: per thread, each sample's stack is diffed against the previous one, closing the
// frames that were left (E) and opening the ones entered (B). A thread absent from a
// sampling instant (idle, filtered out) has all its frames closed at that point.
import type { StackProfile } from '../sampler/profile.js';

export interface TraceEvent {
  name: string;
  cat?: string;
  ph: 'B' | 'E' | 'M';
  pid: number;
  tid: number;
  /** microseconds since the start */
  ts?: number;
  args?: Record<string, unknown>;
}

export function toChromeTrace(profile: StackProfile): TraceEvent[] {
  if (!profile.keepsTimeline) throw new Error('chrometrace needs a profile recorded with the timeline option');
  const events: TraceEvent[] = [];
  const interval = 1 / profile.meta.rate;
  const us = (seconds: number) => Math.round(seconds * 1e6);
  const named = new Set<number>();
  for (const tl of profile.timelines.values()) {
    const tid = tl.nativeTid ?? tl.threadId;
    if (!named.has(tl.pid)) {
      named.add(tl.pid);
      events.push({ name: 'process_name', ph: 'M', pid: tl.pid, tid, args: { name: profile.meta.title || `process ${tl.pid}` } });
    }
    events.push({ name: 'thread_name', ph: 'M', pid: tl.pid, tid, args: { name: tl.name ?? `thread ${tid}` } });
    let open: number[] = [];
    const closeTo = (depth: number, ts: number) => {
      while (open.length > depth) {
        const f = profile.frames[open.pop()!];
        events.push({ name: f.name, cat: 'python', ph: 'E', pid: tl.pid, tid, ts: us(ts) });
      }
    };
    for (let i = 0; i < tl.stacks.length; i++) {
      const tick = tl.ticks[i];
      const ts = profile.tickTimes[tick];
      if (i > 0 && tick !== tl.ticks[i - 1] + 1) {
        // absent at the instants in between: it stopped being seen after the last sample
        closeTo(0, Math.min(profile.tickTimes[tl.ticks[i - 1] + 1] ?? ts, ts));
      }
      const stack = profile.stacks[tl.stacks[i]].frames;
      let same = 0;
      while (same < open.length && same < stack.length && open[same] === stack[same]) same++;
      closeTo(same, ts);
      for (let d = same; d < stack.length; d++) {
        const f = profile.frames[stack[d]];
        events.push({
          name: f.kind === 'python' ? f.name : profile.label(stack[d]),
          cat: 'python',
          ph: 'B',
          pid: tl.pid,
          tid,
          ts: us(ts),
          args:
            f.kind === 'python'
              ? { filename: f.filename, line: f.line }
              : f.kind === 'native'
                ? { module: f.filename, ...(f.source ? { filename: f.source, line: f.line } : {}) }
                : {},
        });
      }
      open = stack.slice();
    }
    const last = tl.ticks.length ? profile.tickTimes[tl.ticks[tl.ticks.length - 1]] : 0;
    closeTo(0, profile.tickTimes[tl.ticks[tl.ticks.length - 1] + 1] ?? last + interval);
  }
  return events;
}
