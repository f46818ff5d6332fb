// The one shape a profile has on the web page, whichever way it came: a live profile, an
// uploaded collapsed/speedscope/pprof file, or a recording found on disk. Unique stacks
// and their counts (the aggregate, never every sample), so what crosses the wire is
// bounded by the number of distinct stacks, not by how long a profile ran. Pure code:
// the server and the page (bundled by esbuild) both import it.
import type { FlameData, FlameNode } from '../formats/flamegraph-app.js';

export interface StackTable {
  title: string;
  subtitle: string;
  /** per frame: [function name, location ("file.py:12", "" when none), kind ("python", "thread", "process", "native")] */
  frames: Array<[string, string, string]>;
  /** [frame indices root first, sample count] */
  stacks: Array<[number[], number]>;
  /** samples per second when known: turns counts into seconds in the table */
  rate?: number;
}

export function totalSamples(t: StackTable): number {
  let n = 0;
  for (const [, c] of t.stacks) n += c;
  return n;
}

/** Frame indices whose kind is a root added by the sampler (one per thread or process). */
function isRootKind(kind: string): boolean {
  return kind === 'thread' || kind === 'process';
}

/** The thread root frames present, for the page's thread filter. */
export function threadRoots(t: StackTable): number[] {
  const out = new Set<number>();
  for (const [frames] of t.stacks) for (const f of frames) if (t.frames[f][2] === 'thread') out.add(f);
  return [...out];
}

export interface TreeOptions {
  /** keep only stacks that go through this frame (a thread root, for the thread filter) */
  through?: number;
  /** leave out thread/process root frames: the whole process as one tree */
  mergeRoots?: boolean;
}

function keptStacks(t: StackTable, o: TreeOptions): Array<[number[], number]> {
  let stacks = t.stacks;
  if (o.through !== undefined) stacks = stacks.filter(([fs]) => fs.includes(o.through!));
  if (o.mergeRoots) stacks = stacks.map(([fs, c]) => [fs.filter((f) => !isRootKind(t.frames[f][2])), c]);
  return stacks;
}

/** Builds a FlameNode tree (children in first-seen order; the component sorts them). */
function buildTree(stacks: Array<[number[], number]>): FlameNode {
  const root: FlameNode = [-1, 0, 0, []];
  const index = new Map<FlameNode, Map<number, FlameNode>>();
  for (const [frames, count] of stacks) {
    let node = root;
    node[1] += count;
    for (const f of frames) {
      let kids = index.get(node);
      if (!kids) index.set(node, (kids = new Map()));
      let child = kids.get(f);
      if (!child) {
        child = [f, 0, 0, []];
        kids.set(f, child);
        node[3].push(child);
      }
      child[1] += count;
      node = child;
    }
    node[2] += count;
  }
  return root;
}

export function toFlameData(t: StackTable, o: TreeOptions = {}): FlameData {
  return { title: t.title, subtitle: t.subtitle, frames: t.frames, tree: buildTree(keptStacks(t, o)) };
}

/** A frame's identity across two profiles: its name and location, as indices differ. */
const frameKey = (f: [string, string, string]) => `${f[0]}\0${f[1]}`;

/**
 * A differential flame graph: the shape of `after`, each frame carrying what it had in
 * `before` scaled by the ratio of the totals (so a profile twice as long does not look
 * like growth everywhere). Frames only in `before` do not appear (nothing to draw them on);
 * their share shows as the shrink of their parent.
 */
export function diffFlameData(before: StackTable, after: StackTable, o: TreeOptions = {}): FlameData {
  const data = toFlameData(after, o);
  const scale = totalSamples(after) / (totalSamples(before) || 1);
  // the before profile's frames renumbered into the after profile's frame indices
  const ids = new Map<string, number>();
  after.frames.forEach((f, i) => ids.set(frameKey(f), i));
  const mapped: Array<[number[], number]> = [];
  for (const [frames, count] of keptStacks(before, { mergeRoots: o.mergeRoots })) {
    const path = frames.map((f) => ids.get(frameKey(before.frames[f])) ?? -2);
    mapped.push([path, count]);
  }
  const base = buildTree(mapped);
  const attach = (n: FlameNode, b: FlameNode | undefined) => {
    n[4] = b ? b[1] * scale : 0;
    for (const c of n[3])
      attach(
        c,
        b?.[3].find((x) => x[0] === c[0]),
      );
  };
  attach(data.tree, base);
  data.diff = true;
  data.subtitle = `${after.title} compared with ${before.title} · red grew, blue shrank (normalised by total samples)`;
  return data;
}

export interface FunctionRow {
  name: string;
  location: string;
  /** samples where it was the innermost frame */
  own: number;
  /** samples it was on the stack (counted once per stack: recursion is not counted twice) */
  total: number;
}

/** One row per function (name and location), like `top`. */
export function functionRows(t: StackTable, o: TreeOptions = {}): FunctionRow[] {
  const rows = new Map<string, FunctionRow>();
  const rowOf = (f: number) => {
    const [name, location] = t.frames[f];
    const key = `${name}\0${location}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { name, location, own: 0, total: 0 }));
    return r;
  };
  for (const [frames, count] of keptStacks(t, o)) {
    const seen = new Set<FunctionRow>();
    frames.forEach((f, i) => {
      if (isRootKind(t.frames[f][2])) return;
      const r = rowOf(f);
      if (i === frames.length - 1) r.own += count;
      if (!seen.has(r)) {
        seen.add(r);
        r.total += count;
      }
    });
  }
  return [...rows.values()];
}

/**
 * The sandwich view of one function (name and location): its callers as a tree rooted at
 * the function growing towards main, and its callees as a tree rooted at the function.
 * Each stack counts from the function's outermost appearance, as recursion would
 * otherwise count it twice.
 */
export function sandwich(t: StackTable, name: string, location: string, o: TreeOptions = {}): { callers: FlameData; callees: FlameData } {
  const callers: Array<[number[], number]> = [];
  const callees: Array<[number[], number]> = [];
  for (const [frames, count] of keptStacks(t, o)) {
    const at = frames.findIndex((f) => t.frames[f][0] === name && t.frames[f][1] === location);
    if (at < 0) continue;
    callers.push([frames.slice(0, at + 1).reverse(), count]);
    callees.push([frames.slice(at), count]);
  }
  const tree = (stacks: Array<[number[], number]>): FlameNode => {
    // the synthetic root holds the one child (the function): show the function as the root
    const r = buildTree(stacks);
    return r[3].length === 1 ? r[3][0] : r;
  };
  const sub = `${name}${location ? ` (${location})` : ''}`;
  return {
    callers: { title: `callers of ${sub}`, subtitle: '', frames: t.frames, tree: tree(callers) },
    callees: { title: `callees of ${sub}`, subtitle: '', frames: t.frames, tree: tree(callees) },
  };
}
