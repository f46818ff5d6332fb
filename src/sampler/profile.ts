// The one aggregate every output format is produced from: interned frames, unique
// stacks (root first) with their sample counts, and, when a format needs time order
// (speedscope, chrometrace), a per-thread timeline of which stack each sample hit.
import type { Frame, ProcessSample } from './types.js';

export type FrameKind = 'python' | 'native' | 'thread' | 'process';

export interface ProfileFrame {
  kind: FrameKind;
  name: string;
  /** full file name as the target sees it; a native frame's module; '' for thread/process frames */
  filename: string;
  /** short form for labels (see filenames.ts) */
  shortFile: string;
  /** 0 when line numbers are off or unknown (a native frame's line in its source) */
  line: number;
  /** a native frame's C/C++ source file, when its module has line information */
  source?: string;
}

export interface ProfileStack {
  /** frame indices, root first */
  frames: number[];
  count: number;
}

export interface ThreadTimeline {
  pid: number;
  threadId: number;
  nativeTid?: number;
  name?: string;
  /** index into StackProfile.tickTimes, one per sample: a gap means the thread was absent (idle) */
  ticks: number[];
  /** stack index per sample */
  stacks: number[];
}

export interface ProfileOptions {
  /** --nolineno: every frame of a function at line 0 */
  lineNumbers?: boolean;
  /** --function: frames keyed by the function's first line rather than the current line */
  byFunction?: boolean;
  /** --threads: a root frame per thread */
  threadRoots?: boolean;
  /** --subprocesses: a root frame per process */
  processRoots?: boolean;
  /** keep per-thread timelines (speedscope, chrometrace) */
  timeline?: boolean;
  /**
   * at most this many thread samples in the timelines (a live profile that runs for
   * days): past it the oldest half is dropped, so the timeline holds the most recent
   * stretch while the aggregate keeps counting everything. Unlimited by default.
   */
  timelineCap?: number;
  /** shortens file names for labels; identity by default */
  shorten?: (filename: string, pid: number) => string;
}

export interface ProfileMeta {
  /** what was profiled, for titles: the command line */
  title: string;
  /** requested samples per second */
  rate: number;
  /** wall-clock start, ms since the epoch */
  startedAt: number;
  /** seconds the recording lasted */
  duration: number;
  /** sampling instants taken (each reads every thread) */
  ticks: number;
  /** samples that failed or tore and were dropped */
  errors: number;
  /** sampling instants missed because the sampler fell behind */
  behind: number;
  /** what the sampler could not do, each once (--native: a module that cannot be read) */
  notes: string[];
}

interface StackTrieNode {
  /** the id of the stack that ends here, once seen */
  stack?: number;
  children: Map<number, StackTrieNode>;
}

export interface TreeNode {
  /** -1 for the root */
  frame: number;
  total: number;
  self: number;
  children: TreeNode[];
}

export class StackProfile {
  readonly frames: ProfileFrame[] = [];
  readonly stacks: ProfileStack[] = [];
  readonly timelines = new Map<string, ThreadTimeline>();
  readonly meta: ProfileMeta;
  /** thread samples aggregated (a tick with 3 threads adds 3) */
  total = 0;
  /** seconds since the start of each sampling instant (kept only with the timeline option) */
  readonly tickTimes: number[] = [];
  /** thread samples in the timelines now */
  private timelineSamples = 0;
  /** sampling instants dropped from the front of the timelines by timelineCap */
  timelineDropped = 0;
  private readonly frameIds = new Map<string, number>();
  /**
   * Frame ids by frame object: the reader hands out one shared, frozen object per code
   * object and instruction, so a repeated frame is found without building its string
   * key (weak: a source that makes new objects per sample leaks nothing).
   */
  private readonly frameIdsByObject = new WeakMap<Frame, number>();
  /** stack ids in a trie of frame ids, root first: no string key per sample */
  private readonly stackTrie: StackTrieNode = { children: new Map() };
  private readonly processNames = new Map<number, string>();
  /** each thread's root frame (threadFrameId), by pid, thread id and kernel TID */
  private readonly threadFrames = new Map<string, { id: number; named: boolean }>();
  private readonly opts: Required<Omit<ProfileOptions, 'shorten'>> & Pick<ProfileOptions, 'shorten'>;

  constructor(opts: ProfileOptions = {}, meta: Partial<ProfileMeta> = {}) {
    this.opts = {
      lineNumbers: opts.lineNumbers ?? true,
      byFunction: opts.byFunction ?? false,
      threadRoots: opts.threadRoots ?? false,
      processRoots: opts.processRoots ?? false,
      timeline: opts.timeline ?? false,
      timelineCap: opts.timelineCap ?? Number.POSITIVE_INFINITY,
      shorten: opts.shorten,
    };
    this.meta = { title: '', rate: 100, startedAt: Date.now(), duration: 0, ticks: 0, errors: 0, behind: 0, notes: [], ...meta };
  }

  get keepsTimeline(): boolean {
    return this.opts.timeline;
  }

  /** The command line of a process, for its root frame under --subprocesses. */
  setProcessName(pid: number, cmdline: string): void {
    this.processNames.set(pid, cmdline);
  }

  /** Starts a sampling instant at `time` seconds since the start; add() then files samples under it. */
  tick(time: number): void {
    this.meta.ticks++;
    if (this.opts.timeline) this.tickTimes.push(time);
  }

  add(s: ProcessSample): void {
    const ids: number[] = [];
    if (this.opts.processRoots) {
      const cmd = this.processNames.get(s.pid);
      ids.push(this.intern('process', cmd ? `process ${s.pid}: "${cmd}"` : `process ${s.pid}`, '', 0, s.pid));
    }
    const t = s.thread;
    if (this.opts.threadRoots) ids.push(this.threadFrameId(s));
    for (let i = t.frames.length - 1; i >= 0; i--) {
      const f = t.frames[i];
      ids.push(
        f.kind === 'native'
          ? this.intern('native', f.name, f.module ?? '', this.opts.byFunction ? 0 : this.lineOf(f), s.pid, f.filename)
          : this.pythonFrameId(f, s.pid),
      );
    }
    const sid = this.stackId(ids);
    this.stacks[sid].count++;
    this.total++;
    if (this.opts.timeline) {
      const tkey = `${s.pid}:${t.threadId}`;
      let tl = this.timelines.get(tkey);
      if (!tl) {
        tl = { pid: s.pid, threadId: t.threadId, nativeTid: t.nativeTid, name: t.name, ticks: [], stacks: [] };
        this.timelines.set(tkey, tl);
      }
      if (t.name) tl.name = t.name;
      tl.ticks.push(this.tickTimes.length - 1);
      tl.stacks.push(sid);
      if (++this.timelineSamples > this.opts.timelineCap) this.dropOldestHalf();
    }
  }

  /** Forgets the older half of the sampling instants and every thread sample taken at them (indices shift down). */
  private dropOldestHalf(): void {
    const cut = Math.ceil(this.tickTimes.length / 2);
    this.tickTimes.splice(0, cut);
    this.timelineDropped += cut;
    this.timelineSamples = 0;
    for (const [key, tl] of this.timelines) {
      let first = 0;
      while (first < tl.ticks.length && tl.ticks[first] < cut) first++;
      tl.ticks.splice(0, first);
      tl.stacks.splice(0, first);
      for (let i = 0; i < tl.ticks.length; i++) tl.ticks[i] -= cut;
      this.timelineSamples += tl.ticks.length;
      if (!tl.ticks.length) this.timelines.delete(key);
    }
  }

  /** The stacks as a tree rooted at a synthetic root (frame -1), children ordered by label. */
  tree(): TreeNode {
    const root: TreeNode = { frame: -1, total: 0, self: 0, children: [] };
    const index = new Map<TreeNode, Map<number, TreeNode>>();
    for (const st of this.stacks) {
      let node = root;
      node.total += st.count;
      for (const f of st.frames) {
        let kids = index.get(node);
        if (!kids) index.set(node, (kids = new Map()));
        let child = kids.get(f);
        if (!child) {
          child = { frame: f, total: 0, self: 0, children: [] };
          kids.set(f, child);
          node.children.push(child);
        }
        child.total += st.count;
        node = child;
      }
      node.self += st.count;
    }
    const sort = (n: TreeNode) => {
      n.children.sort((a, b) => compareLabels(this.label(a.frame), this.label(b.frame)));
      n.children.forEach(sort);
    };
    sort(root);
    return root;
  }

  /**
   * "name (file.py:12)", "name (file.py)" without a line, "name (file.c:12, libfoo.so)" or
   * "name (libc.so.6)" for a native frame, or the bare name of a thread/process frame.
   */
  label(frame: number): string {
    const f = this.frames[frame];
    if (f.kind === 'native') return `${f.name} (${nativeLocation(f)})`;
    if (f.kind !== 'python' || !f.shortFile) return f.name;
    return f.line > 0 ? `${f.name} (${f.shortFile}:${f.line})` : `${f.name} (${f.shortFile})`;
  }

  /**
   * The root frame of a thread (--threads): one per thread, however its name changed. A
   * thread is often sampled before `threading` has named it (a program launched by
   * `record`): the name found later labels all of its samples, not only the later ones.
   */
  private threadFrameId(s: ProcessSample): number {
    const t = s.thread;
    const key = `${s.pid}:${t.threadId}:${t.nativeTid}`;
    const known = this.threadFrames.get(key);
    if (known === undefined) {
      const id = this.frames.length;
      this.frames.push({ kind: 'thread', name: threadLabel(t.nativeTid, t.threadId, t.name), filename: '', shortFile: '', line: 0 });
      this.threadFrames.set(key, { id, named: t.name !== undefined });
      return id;
    }
    if (!known.named && t.name !== undefined) {
      this.frames[known.id].name = threadLabel(t.nativeTid, t.threadId, t.name);
      known.named = true;
    }
    return known.id;
  }

  private lineOf(f: Frame): number {
    if (!this.opts.lineNumbers) return 0;
    if (this.opts.byFunction) return f.firstLine ?? 0;
    return f.line;
  }

  private pythonFrameId(f: Frame, pid: number): number {
    let id = this.frameIdsByObject.get(f);
    if (id === undefined) {
      id = this.intern('python', f.name, f.filename, this.lineOf(f), pid);
      // only a frozen frame is sure to say the same next time
      if (Object.isFrozen(f)) this.frameIdsByObject.set(f, id);
    }
    return id;
  }

  private stackId(ids: number[]): number {
    let node = this.stackTrie;
    for (const id of ids) {
      let child = node.children.get(id);
      if (child === undefined) node.children.set(id, (child = { children: new Map() }));
      node = child;
    }
    if (node.stack === undefined) {
      node.stack = this.stacks.length;
      this.stacks.push({ frames: ids, count: 0 });
    }
    return node.stack;
  }

  private intern(kind: FrameKind, name: string, filename: string, line: number, pid: number, source = ''): number {
    const key = `${kind}\0${name}\0${filename}\0${line}\0${source}`;
    let id = this.frameIds.get(key);
    if (id === undefined) {
      id = this.frames.length;
      // a native frame's "file" is already a module's short name
      const shortFile = filename && kind === 'python' && this.opts.shorten ? this.opts.shorten(filename, pid) : filename;
      this.frames.push(source ? { kind, name, filename, shortFile, line, source } : { kind, name, filename, shortFile, line });
      this.frameIds.set(key, id);
    }
    return id;
  }
}

/** Where a native frame is: "file.c:12, libfoo.so" (the source's base name) when its line is known, else its module. */
export function nativeLocation(f: ProfileFrame): string {
  if (!f.source) return f.filename;
  const base = f.source.slice(f.source.lastIndexOf('/') + 1);
  return `${f.line > 0 ? `${base}:${f.line}` : base}, ${f.filename}`;
}

export function threadLabel(nativeTid: number | undefined, threadId: number, name: string | undefined): string {
  const id = nativeTid !== undefined ? String(nativeTid) : `0x${threadId.toString(16)}`;
  return name ? `thread ${id} "${name}"` : `thread ${id}`;
}

function compareLabels(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
