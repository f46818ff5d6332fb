// For the tests of `record`, `top` and the shell's `perf`: start the profile_* targets
// with a start-up wait that survives a loaded machine, and read back what the profiles
// written by spyglass contain (collapsed stacks, the data inside a flame graph).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FlameData, FlameNode } from '../../src/formats/flamegraph-app.js';
import type { Interpreter } from './pythons.js';
import { startTarget, type Target } from './targets.js';

/** Python's start-up alone can take many seconds when every core is busy. */
export const READY_TIMEOUT_MS = 60000;

export function startProfileTarget(py: Interpreter | string, script: string, args: string[] = []): Promise<Target> {
  return startTarget(py, script, args, { readyTimeoutMs: READY_TIMEOUT_MS });
}

/** A collapsed profile: [frame labels root first, samples] per line. */
export type Stacks = Array<[string[], number]>;

export function parseCollapsed(text: string): Stacks {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const i = l.lastIndexOf(' ');
      return [l.slice(0, i).split(';'), Number(l.slice(i + 1))];
    });
}

/** Samples whose stack has a frame of function `fn` (labels read "fn (file:line)"). */
export function samplesIn(stacks: Stacks, fn: string): number {
  return stacks.filter(([frames]) => frames.some((f) => f.startsWith(`${fn} (`))).reduce((a, [, n]) => a + n, 0);
}

export function totalSamples(stacks: Stacks): number {
  return stacks.reduce((a, [, n]) => a + n, 0);
}

/** The data a flame graph (HTML or SVG) carries for its script. */
export function flameDataOf(file: string): FlameData {
  const m = /\}\)\((\{.*\}), '(html|svg)'\);/.exec(file);
  if (!m) throw new Error(`no flame graph data in: ${file.slice(0, 200)}`);
  return JSON.parse(m[1]) as FlameData;
}

/** Samples under the frames of function `fn` in a flame graph, counting nested calls once. */
export function flameSamplesIn(data: FlameData, fn: string): number {
  const walk = (n: FlameNode): number => (n[0] >= 0 && data.frames[n[0]][0] === fn ? n[1] : n[3].reduce((a, c) => a + walk(c), 0));
  return walk(data.tree);
}

/**
 * Waits until process `pid` (a spyglass recording) has /proc/TARGET/mem open, i.e. has
 * started sampling: a loaded machine can take many seconds to get there.
 */
export async function waitUntilSampling(pid: number, target: number, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const want = `/proc/${target}/mem`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`) === want) return;
        } catch {
          /* closed meanwhile */
        }
      }
    } catch {
      throw new Error(`process ${pid} exited before it started sampling ${target}`);
    }
    await sleep(100);
  }
  throw new Error(`process ${pid} did not start sampling ${target} within ${timeoutMs} ms`);
}

/** CPU seconds (user + system) process `pid` has used so far. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields after the command name start at field 3 (state); utime and stime are 14 and 15, in clock ticks of 1/100 s
  return (Number(fields[14 - 3]) + Number(fields[15 - 3])) / 100;
}
