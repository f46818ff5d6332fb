// Reads every thread and frame of a running CPython from outside, through
// /proc/PID/mem, without stopping it (docs/cpython-layouts.md §5-§9). One reader is
// opened per process and reused: per code object it caches name, file and line table,
// so a repeated sample costs a few reads per thread (the sampler calls it many times a
// second). Everything version-specific comes from the Layout; this file knows no offset.
import { ProcessGoneError } from '../errors.js';
import { AddressSpace } from '../proc/maps.js';
import { MemoryReadError, ProcessMemory } from '../proc/memory.js';
import { isExiting, listThreads, threadState } from '../proc/process.js';
import { DEBUG_OFFSETS_MAX_SIZE } from './layouts/debug-offsets.js';
import { layoutFor, type Layout } from './layouts/index.js';
import { lineFor } from './linetable.js';
import { locatePython, type PythonTarget } from './locate.js';
import { KNOWN_TYPE_SYMBOLS, ObjectReader, type KnownTypes } from './objects.js';
import { i32At, SnapshotMemory, u64At } from './snapshot.js';
import { StrHasher } from './str-hash.js';
import { ThreadNames } from './thread-names.js';
import type { LocalVariable, StackDump, StackFrame, ThreadActivity, ThreadStack } from './types.js';
import { nowMs } from '../clock.js';

export interface SampleOptions {
  /** read each frame's arguments and locals (slower) */
  locals?: boolean;
  /** look up thread names in threading (default true) */
  threadNames?: boolean;
  /**
   * look threads without a name up again now instead of trusting a recent miss (a thread
   * seen before `threading` registered it would keep its placeholder for up to a second)
   */
  recheckUnnamed?: boolean;
  /** read each thread's scheduler state from /proc (default true) */
  activity?: boolean;
  /** frames per thread before the rest is left out (default 4096) */
  maxDepth?: number;
  /**
   * The kernel's scheduler state of a thread ('R' running, 'S' sleeping, ...; undefined
   * when it cannot be read), asked once per thread and sample in place of `activity`'s
   * reads (the sampler keeps the files open).
   */
  threadState?: (tid: number) => string | undefined;
  /**
   * With threadState: false leaves the stacks of threads the kernel reports not running
   * unread (ThreadStack.notRead), for a caller that drops idle threads anyway (default true).
   */
  walkIdle?: boolean;
}

/** reads of a thread list that keeps changing under us before the last one is taken as it is */
const TORN_LIST_ATTEMPTS = 3;
/**
 * Walks of one thread's stack before it is reported torn. A thread in a tight loop of
 * calls changes its stack faster than one read of the target's memory takes, so a walk
 * made of several reads races with it often (3.8-3.10, a 20-deep recursion in a loop:
 * one walk in three to ten, with machine load); each new walk is another try, and 16
 * leave well under 5% torn (BENCHMARKS.md#stack-consistency).
 */
const THREAD_ATTEMPTS = 16;

/**
 * Times threads that ended at the same first frame are read again before they are
 * marked torn: one of them ran into the other's frames, and the next walk seldom does.
 */
const SHARED_BOTTOM_ROUNDS = 2;

class TornThreadListError extends Error {}

/** A frame walk that raced with the thread: the frames read are not one real stack. */
class TornWalkError extends Error {}

interface ThreadWalk {
  frames: StackFrame[];
  truncated?: boolean;
  /** why the frames read are not one consistent stack (see ThreadStack.torn) */
  torn?: string;
  /** address of the thread's first (oldest) frame, when the walk reached it */
  bottom?: number;
}

/** One thread of a sample as read: its state, and the walk of its frames. */
interface ThreadRead {
  interp: number;
  interpId: number;
  /** the thread state holding the GIL, or 0 */
  holder: number;
  ts: number;
  raw: Buffer;
  /** threading.get_ident(): glibc's pthread_t, an address */
  threadId: number;
  /** the kernel TID, once known */
  tid?: number;
  /** its scheduler state (SampleOptions.threadState), once asked */
  state?: string;
  asked: boolean;
  stack: ThreadWalk;
  /** an idle thread whose stack was not walked (SampleOptions.walkIdle) */
  notRead: boolean;
}

const NOT_WALKED: ThreadWalk = Object.freeze({ frames: Object.freeze([]) as unknown as StackFrame[] });

const MAX_THREADS = 4096;
const MAX_INTERPRETERS = 256;
const DEFAULT_MAX_DEPTH = 4096;
/** How far below a 3.11+ frame to read along with it: older frames of the same data stack. */
const DATA_STACK_PREFETCH = 16 * 1024;
/**
 * How far below a 3.8-3.10 frame object to read along with it: a thread's frames are
 * allocated one after another, older ones mostly in the pages just below (measured:
 * 56 -> 40 reads per dump of 10 threads x 20 frames, 1488 -> 576 for 200 x 50, at
 * the same CPU time: a 20 KiB read costs about twice a 4 KiB one).
 */
const FRAME_OBJECT_PREFETCH = 16 * 1024;
/** glibc 2.36 x86_64 keeps the kernel TID at this offset of struct pthread (tried first). */
const GLIBC_PTHREAD_TID = 720;
const PTHREAD_SCAN_BYTES = 1024;
/**
 * How long a cached code object is trusted before it is read again: the address of a
 * freed code object can be reused by another one whose bytecode the frame's instruction
 * offset also fits (the cheap check made on every use). Its name, even, may then be a new
 * string at the address of the old one: only the contents tell them apart.
 */
const CODE_RECHECK_MS = 1000;
/**
 * A cached code object not met for this long is forgotten: a long recording of a program
 * that makes code at run time (templates, exec) would otherwise keep every one. An entry
 * in use is re-checked, and so marked, every CODE_RECHECK_MS.
 */
const CODE_FORGET_MS = 60_000;

interface CodeInfo {
  /** false when the frame's executable is not a code object (3.13+ allows that): skip the frame */
  isCode: boolean;
  name: string;
  filename: string;
  firstlineno: number;
  table: Buffer;
  /** length of the bytecode in the unit frames record the instruction in */
  lastiLimit: number;
  /** nowMs() when this was last compared with the target */
  checkedAt: number;
  /**
   * The frame for each instruction offset seen, shared by every sample (frozen): a
   * repeated sample decodes no line table and allocates no frame.
   */
  frames: Map<number, StackFrame>;
  /** where the local variable names are; read on the first --locals use */
  localsFrom?: { names: bigint; kinds?: bigint; nlocals?: number; cellvars?: bigint; argCount: number };
  /** the variables shown, in order: each one's name, its slot in localsplus, whether it is an argument */
  locals?: { names: string[]; slots: number[]; argument: boolean[]; slotCount: number };
}

/** Opens a reader on a live CPython process; throws a UserError when that is not possible. */
export async function openReader(pid: number): Promise<PythonReader> {
  const target = locatePython(pid);
  try {
    return new PythonReader(target);
  } catch (e) {
    target.close();
    throw e;
  }
}

export class PythonReader {
  readonly pid: number;
  readonly target: PythonTarget;
  readonly layout: Layout;
  private readonly mem: ProcessMemory;
  private readonly snap: SnapshotMemory;
  private readonly objects: ObjectReader;
  private readonly threadNames: ThreadNames;
  private readonly codes = new Map<number, CodeInfo>();
  /** nowMs() at the start of the current sample */
  private sampleTime = 0;
  private codesSweptAt = 0;
  /** offset of the kernel TID in glibc's struct pthread (3.8-3.10); null when not found */
  private pthreadTidOffset?: number | null;
  /** set by the frame steps: the last frame visited may be a thread's first (threadFrames) */
  private atBase = false;
  /** the thread being walked runs its trace or profile function (3.8-3.10; threadFrames) */
  private tracing = false;
  /**
   * per thread state: the first frame of its last consistent walk (readThread), and the
   * last sample that met the thread state (entries not met are forgotten)
   */
  private readonly bottoms = new Map<number, { threadId: number; bottom: number; seen: number }>();
  /**
   * per thread state (3.8-3.10): the pthread it ran on and the kernel TID read there, kept
   * while the TID's scheduler state can be read (askState)
   */
  private readonly pthreadTids = new Map<number, { pthread: number; tid: number | undefined; seen: number }>();
  /** samples taken: marks the entries of bottoms and pthreadTids still in use */
  private samples = 0;
  /** thread states met in this walk of an interpreter's list (reused: no Set per sample) */
  private readonly seenStates = new Set<number>();
  /** frames met in this walk of a thread (reused) */
  private readonly seenFrames = new Set<number>();
  private readonly runtime: number;
  private readonly info: StackDump['python'];
  /** the entry-marked copy of each shared frame (asEntry) */
  private readonly entryFrames = new WeakMap<StackFrame, StackFrame>();

  constructor(target: PythonTarget) {
    this.pid = target.pid;
    this.target = target;
    this.runtime = Number(target.pyRuntime);
    this.info = { version: target.version.text, build: target.build, executable: target.exePath, library: target.libPath };
    if (threadState(this.pid, this.pid) === 'Z') throw new ProcessGoneError(this.pid, `process ${this.pid} has exited`);
    this.mem = ProcessMemory.open(this.pid);
    try {
      this.snap = new SnapshotMemory(this.mem, new AddressSpace(target.maps));
      const debugOffsets = target.version.minor >= 13 ? this.mem.read(target.pyRuntime, DEBUG_OFFSETS_MAX_SIZE) : undefined;
      this.layout = layoutFor(target.version, debugOffsets);
      const types: KnownTypes = {};
      for (const [key, symbol] of Object.entries(KNOWN_TYPE_SYMBOLS)) types[key as keyof KnownTypes] = target.symbol(symbol);
      // the hash secret, for dict lookups by hash (docs/dict-lookup.md); read when first needed
      const secret = target.symbol('_Py_HashSecret');
      const mem = this.mem;
      const hasher = secret ? new StrHasher(() => mem.read(secret, 16), target.version.minor) : undefined;
      this.objects = new ObjectReader(this.snap, this.layout, types, hasher);
      this.threadNames = new ThreadNames(this.objects, this.layout);
    } catch (e) {
      this.mem.close();
      throw this.gone(e);
    }
  }

  /** read syscalls made so far */
  get readCount(): number {
    return this.mem.readCount;
  }

  /** threading.get_ident() of the thread whose state is at `tstate`, read now. */
  threadIdentAt(tstate: bigint): bigint {
    return this.mem.u64(tstate + BigInt(this.layout.tstate.threadId));
  }

  close(): void {
    this.mem.close();
    this.target.close();
  }

  /** A ProcessGoneError when the target has exited or is exiting, else the error itself. */
  private gone(e: unknown): unknown {
    if (e instanceof ProcessGoneError) return e;
    return isExiting(this.pid) ? new ProcessGoneError(this.pid, `process ${this.pid} exited while being read`) : e;
  }

  /** Every thread of every interpreter, innermost frame first. */
  sample(opts: SampleOptions = {}): StackDump {
    if (nowMs() - this.codesSweptAt > CODE_FORGET_MS) this.forgetOldCodes();
    for (let attempt = 1; ; attempt++) {
      this.snap.begin();
      this.sampleTime = nowMs();
      this.samples++;
      try {
        return this.walk(opts, attempt < TORN_LIST_ATTEMPTS);
      } catch (e) {
        if (e instanceof TornThreadListError) continue;
        throw this.gone(e);
      }
    }
  }

  /** strict: a thread list that changed under us (see below) is read again from the start */
  private walk(opts: SampleOptions, strict: boolean): StackDump {
    // addresses are Numbers here too (snapshot.ts): this runs for every sample
    const L = this.layout;
    const snap = this.snap;
    const read: ThreadRead[] = [];
    const interpreters: number[] = [];
    const seenInterps: number[] = [];
    const seen = this.seenStates;
    const skipIdle = opts.threadState !== undefined && opts.walkIdle === false;
    let interp = snap.ptrAt(this.runtime + L.runtime.interpretersHead);
    // up to 3.11 one GIL serves every interpreter, and _PyRuntime says which thread holds it
    const runtimeHolder = L.runtime.tstateCurrent !== undefined ? snap.ptrAt(this.runtime + L.runtime.tstateCurrent) : 0;
    while (interp && !seenInterps.includes(interp) && seenInterps.length < MAX_INTERPRETERS) {
      seenInterps.push(interp);
      if (!snap.validAt(interp)) break;
      const interpId = snap.i64At(interp + L.interp.id);
      interpreters.push(interpId);
      const holder = L.gil ? this.gilHolder(interp) : runtimeHolder;
      seen.clear();
      let ts = snap.ptrAt(interp + L.interp.threadsHead);
      while (ts && !seen.has(ts) && seen.size < MAX_THREADS && snap.validAt(ts, L.tstate.size)) {
        seen.add(ts);
        const raw = snap.readAt(ts, L.tstate.size);
        // a thread state freed while we followed the list (a thread ending or starting):
        // what we read is no longer one of this interpreter's threads
        if (u64At(raw, L.tstate.interp) !== interp) {
          if (strict) throw new TornThreadListError();
          break;
        }
        const next = u64At(raw, L.tstate.next);
        const t: ThreadRead = {
          interp,
          interpId,
          holder,
          ts,
          raw,
          threadId: u64At(raw, L.tstate.threadId),
          tid: undefined,
          state: undefined,
          asked: false,
          stack: NOT_WALKED,
          notRead: false,
        };
        if (opts.threadState) this.askState(t, opts.threadState);
        // a thread the kernel reports not running is left unwalked when its stack is not
        // wanted; its remembered first frame stays as it was (separateBottoms)
        if (skipIdle && t.asked && t.state !== 'R') t.notRead = true;
        // walk the frames right after reading the thread state, while they still match it
        else this.readThread(t, opts, strict);
        read.push(t);
        ts = next;
      }
      interp = snap.ptrAt(interp + L.interp.next);
    }
    this.separateBottoms(read, opts, strict);
    this.lateTids(read, opts);
    const threads: ThreadStack[] = [];
    for (let i = 0; i < read.length; i++) {
      const t = read[i];
      const { stack, threadId } = t;
      // A thread being started: its state is made (and put first in the list) by the
      // thread that starts it, and up to 3.11 carries that creator's ids until the new
      // thread runs, which then sets its own thread id and OS thread id one after the
      // other (seen: the new id with the creator's OS thread id). It is not a second copy
      // of its creator: leave it out. From 3.12 it carries no ids (0) until then.
      if (!t.notRead && !stack.frames.length && (threadId === 0 || laterThread(read, i, t))) continue;
      const activity: ThreadActivity = t.asked
        ? t.state === 'R'
          ? 'active'
          : 'idle'
        : opts.activity === false || t.tid === undefined
          ? 'unknown'
          : activityOf(this.pid, t.tid);
      const out: ThreadStack = {
        interpreterId: t.interpId,
        threadId,
        tid: t.tid,
        name:
          opts.threadNames === false || t.notRead
            ? undefined
            : this.threadNames.name(t.interp, threadId, this.sampleTime, opts.recheckUnnamed),
        holdsGil: t.holder !== 0 && t.holder === t.ts,
        activity,
        frames: t.notRead ? [] : stack.frames,
      };
      if (t.notRead) out.notRead = true;
      if (stack.truncated) out.truncated = true;
      if (stack.torn !== undefined) out.torn = stack.torn;
      threads.push(out);
    }
    this.rememberBottoms(read);
    // CPython keeps both lists newest first; shown oldest first: the main interpreter and
    // its main thread lead, as in py-spy's dump and in the order the program made them
    interpreters.reverse();
    threads.reverse();
    return { pid: this.pid, python: this.info, interpreters, threads };
  }

  /**
   * The kernel TID of a thread and its scheduler state, asked before its stack is walked.
   * On 3.8-3.10 the TID comes from glibc's struct pthread, read once per thread state
   * and pthread and trusted while that TID's state can be read: a thread that ended
   * makes its state unreadable, and a new thread on the same thread state and pthread
   * (glibc reuses both) is then read afresh.
   */
  private askState(t: ThreadRead, ask: (tid: number) => string | undefined): void {
    const T = this.layout.tstate;
    if (T.nativeThreadId !== undefined) t.tid = u64At(t.raw, T.nativeThreadId) || undefined;
    else {
      const off = this.pthreadTidOffset;
      // the offset is looked for once every thread is listed (lateTids)
      if (off === undefined || off === null) return;
      const known = this.pthreadTids.get(t.ts);
      if (known !== undefined && known.pthread === t.threadId) {
        known.seen = this.samples;
        t.tid = known.tid;
        if (t.tid !== undefined) {
          t.state = ask(t.tid);
          t.asked = true;
          if (t.state !== undefined) return;
        }
      }
      t.tid = this.pthreadTid(t.threadId, off);
      this.pthreadTids.set(t.ts, { pthread: t.threadId, tid: t.tid, seen: this.samples });
    }
    if (t.tid === undefined) return;
    t.state = ask(t.tid);
    t.asked = true;
  }

  /**
   * TIDs not known before the walk (3.8-3.10: the first sample, which finds where glibc
   * keeps them; a caller that asks no states), and their states.
   */
  private lateTids(read: ThreadRead[], opts: SampleOptions): void {
    const T = this.layout.tstate;
    let missing = false;
    for (const t of read) {
      if (t.tid === undefined && !t.asked) missing = true;
    }
    if (!missing) return;
    if (T.nativeThreadId !== undefined) {
      for (const t of read) t.tid = u64At(t.raw, T.nativeThreadId) || undefined;
    } else {
      if (this.pthreadTidOffset === undefined) this.pthreadTidOffset = this.findPthreadTidOffset(read.map((t) => t.threadId));
      const off = this.pthreadTidOffset;
      if (off === null) return;
      for (const t of read) {
        if (t.asked) continue;
        t.tid = this.pthreadTid(t.threadId, off);
        if (opts.threadState) this.pthreadTids.set(t.ts, { pthread: t.threadId, tid: t.tid, seen: this.samples });
      }
    }
    if (!opts.threadState) return;
    for (const t of read) {
      if (t.asked || t.tid === undefined) continue;
      t.state = opts.threadState(t.tid);
      t.asked = true;
    }
  }

  /** The kernel TID glibc keeps in a thread's struct pthread, or undefined when it cannot be read. */
  private pthreadTid(pthread: number, off: number): number | undefined {
    try {
      return this.snap.validAt(pthread + off, 4) ? this.snap.i32At(pthread + off) : undefined;
    } catch (e) {
      if (e instanceof MemoryReadError) return undefined;
      throw e;
    }
  }

  /**
   * Walks one thread until a walk is consistent and ends at a first frame known to be
   * this thread's: the one it ended at last time, or, for a thread met for the first time
   * or whose first frame changed, the same one two walks in a row. A walk that raced with
   * a frame freed and reused by another thread runs on into that thread's frames, each
   * live, and ends at that thread's first frame (docs/stack-consistency.md §1.4).
   */
  private readThread(t: ThreadRead, opts: SampleOptions, strict: boolean): void {
    const L = this.layout;
    const known = this.bottoms.get(t.ts);
    let confirmed = known !== undefined && known.threadId === t.threadId ? known.bottom : undefined;
    let raw = t.raw;
    let stack = this.threadFrames(raw, opts);
    for (let attempt = 1; ; attempt++) {
      if (stack.torn === undefined) {
        if (stack.bottom === undefined || stack.bottom === confirmed) break;
        confirmed = stack.bottom; // a second walk ending there confirms it
      }
      if (attempt >= THREAD_ATTEMPTS) {
        if (stack.torn === undefined) stack = { ...stack, torn: "the stack's first frame changed between walks" };
        break;
      }
      // the thread changed its stack while we read it: read it again, afresh
      this.snap.forget();
      const again = this.snap.readAt(t.ts, L.tstate.size);
      if (u64At(again, L.tstate.interp) !== t.interp) {
        if (strict) throw new TornThreadListError();
        break; // the thread ended meanwhile: what was read stays marked torn
      }
      raw = again;
      stack = this.threadFrames(raw, opts);
    }
    t.raw = raw;
    t.stack = stack;
  }

  /**
   * No two threads have the same first frame: walks that end at one another thread also
   * ended at (this sample, or last time when its walk now is torn) are read again, and
   * marked torn if they still do (docs/stack-consistency.md §1.4).
   */
  private separateBottoms(read: ThreadRead[], opts: SampleOptions, strict: boolean): void {
    for (let round = 0; ; round++) {
      const bottoms = read.map((t) => t.stack.bottom ?? this.bottoms.get(t.ts)?.bottom);
      if (!anyShared(bottoms)) return;
      for (const i of sharedBottoms(bottoms)) {
        const t = read[i];
        if (round < SHARED_BOTTOM_ROUNDS) {
          // what was learned of it may be another thread's: learn it again (a thread left
          // unwalked as idle, too: its remembered first frame may be stale)
          this.bottoms.delete(t.ts);
          this.snap.forget();
          t.notRead = false;
          this.readThread(t, opts, strict);
        } else if (t.stack.bottom !== undefined) {
          t.stack = { ...t.stack, torn: "the walk ran into another thread's frames", bottom: undefined };
        }
      }
      if (round >= SHARED_BOTTOM_ROUNDS) return;
    }
  }

  /**
   * Each thread's first frame, from its consistent walks, for the next sample
   * (readThread); a thread left unwalked keeps what was remembered of it.
   */
  private rememberBottoms(read: ThreadRead[]): void {
    const now = this.samples;
    for (const t of read) {
      const known = this.bottoms.get(t.ts);
      const { bottom, torn } = t.stack;
      if (torn === undefined && bottom !== undefined) {
        if (known === undefined) this.bottoms.set(t.ts, { threadId: t.threadId, bottom, seen: now });
        else {
          known.threadId = t.threadId;
          known.bottom = bottom;
          known.seen = now;
        }
      } else if (known !== undefined) known.seen = now;
    }
    // forEach: no entry array per thread and sample, as for-of makes
    this.bottoms.forEach((b, ts) => b.seen !== now && this.bottoms.delete(ts));
    this.pthreadTids.forEach((p, ts) => p.seen !== now && this.pthreadTids.delete(ts));
  }

  /** The thread state holding the interpreter's GIL (3.12+), or 0. */
  private gilHolder(interp: number): number {
    const G = this.layout.gil!;
    const gil = this.snap.ptrAt(interp + this.layout.interp.cevalGil!);
    if (!gil || !this.snap.validAt(gil)) return 0;
    // last_holder is not cleared on release: it only counts while the GIL is locked
    return this.snap.i32At(gil + G.locked) ? this.snap.ptrAt(gil + G.lastHolder) : 0;
  }

  /**
   * Where glibc's struct pthread keeps the kernel TID (3.8-3.10, whose thread state has
   * only the pthread_t): found once, by looking for the TIDs the kernel lists (no ptrace
   * needed).
   */
  private findPthreadTidOffset(pthreads: number[]): number | null {
    const tids = new Set(listThreads(this.pid));
    const structs: Buffer[] = [];
    // a thread being started shares its creator's pthread (see walk): count each once
    for (const p of new Set(pthreads)) {
      if (!this.snap.validAt(p, PTHREAD_SCAN_BYTES)) continue;
      structs.push(this.snap.readAt(p, PTHREAD_SCAN_BYTES));
    }
    if (!structs.length) return null;
    const fits = (off: number): boolean => {
      const values = structs.map((s) => s.readInt32LE(off));
      // every thread's value is a live TID of the process, no two alike, and the main thread's is the pid
      return (
        values.every((v) => tids.has(v)) && new Set(values).size === values.length && (values.includes(this.pid) || structs.length > 1)
      );
    };
    if (fits(GLIBC_PTHREAD_TID)) return GLIBC_PTHREAD_TID;
    for (let off = 0; off + 4 <= PTHREAD_SCAN_BYTES; off += 4) if (fits(off)) return off;
    return null;
  }

  /**
   * The frames of one thread, innermost first, checked to be one consistent stack
   * (docs/stack-consistency.md): every frame was live when read (3.8-3.10: its eval loop
   * was running it), the chain neither loops nor leaves readable memory, and it ends at
   * the thread's first frame (3.11: one marked is_entry; 3.12+: a C-stack shim). A chain
   * cut short by a frame popped under us is thus reported torn, never as a shorter stack.
   */
  private threadFrames(tstate: Buffer, opts: SampleOptions): ThreadWalk {
    const L = this.layout;
    const frames: StackFrame[] = [];
    const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
    const seen = this.seenFrames;
    seen.clear();
    let frame: number;
    try {
      if (L.tstate.frame !== undefined) frame = u64At(tstate, L.tstate.frame);
      else if (L.tstate.currentFrame !== undefined) frame = u64At(tstate, L.tstate.currentFrame);
      else {
        const cframe = u64At(tstate, L.tstate.cframe!);
        frame = cframe ? this.snap.ptrAt(cframe + L.cframe!.currentFrame) : 0;
      }
      // 3.8-3.10 frames carry no marker of a thread's first frame: a running one whose
      // f_back is NULL is one
      this.atBase = frame === 0 || L.frameObject !== undefined;
      this.tracing = L.tstate.tracing !== undefined && i32At(tstate, L.tstate.tracing) !== 0;
      let bottom: number | undefined;
      while (frame) {
        if (seen.has(frame)) throw new TornWalkError('the frame chain loops');
        seen.add(frame);
        if (frames.length >= maxDepth) return { frames, truncated: true };
        bottom = frame;
        frame = L.frameObject ? this.frameObjectStep(frame, frames, opts) : this.interpreterFrameStep(frame, frames, opts);
      }
      if (!this.atBase) return { frames, torn: "the frame chain ended above the thread's first frame" };
      return { frames, bottom };
    } catch (e) {
      if (e instanceof TornWalkError) return { frames, torn: e.message };
      if (e instanceof MemoryReadError || e instanceof RangeError) return { frames, torn: `a frame could not be read (${e.message})` };
      throw e;
    }
  }

  // The frame steps run for every frame of every sample: addresses are Numbers and the
  // fields are read in place from the cached segment (no BigInt, no Buffer per frame).

  /** One PyFrameObject (3.8-3.10); returns f_back. */
  private frameObjectStep(frame: number, out: StackFrame[], opts: SampleOptions): number {
    const F = this.layout.frameObject!;
    const { buf, at, base } = this.snap.segment(frame, F.localsplus, FRAME_OBJECT_PREFETCH);
    const off = at + frame - base;
    const lasti = i32At(buf, off + F.lasti);
    const running = F.executing !== undefined ? buf[off + F.executing] === 1 : buf[off + F.state!] === F.stateExecuting;
    // The eval loop makes a frame the thread's top before it marks it running: a frame
    // not yet running that has run no instruction (f_lasti -1) is being entered, and is
    // the top one, or, while the thread runs its trace function for that frame's `call`
    // event, the one right below the trace function's frames. Any other frame not running
    // returned after its callee's f_back was read (from the free list, f_back even links
    // free frames): the walk raced with the thread (docs/stack-consistency.md §1.2).
    if (!running && !(lasti === -1 && (out.length === 0 || this.tracing)))
      throw new TornWalkError('a frame returned while the stack was read');
    const code = this.codeInfo(u64At(buf, off + F.code), lasti);
    out.push(this.frameOf(code, lasti, opts.locals ? frame + F.localsplus : undefined, false));
    return u64At(buf, off + F.back);
  }

  /** One _PyInterpreterFrame (3.11+); returns `previous`. */
  private interpreterFrameStep(frame: number, out: StackFrame[], opts: SampleOptions): number {
    const I = this.layout.iframe!;
    // older frames of the same thread usually sit just below in the same data-stack chunk
    const { buf, at, base } = this.snap.segment(frame, I.localsplus, DATA_STACK_PREFETCH);
    const off = at + frame - base;
    const previous = u64At(buf, off + I.previous);
    if (I.skipOwnerFrom !== undefined && buf[off + I.owner] >= I.skipOwnerFrom) {
      // a C-stack shim (3.12+): the frame above it is the first of its eval-loop call,
      // and the oldest frame of a thread is one
      if (out.length) out[out.length - 1] = this.asEntry(out[out.length - 1]);
      this.atBase = true;
      return previous;
    }
    const isEntry = I.isEntry !== undefined && buf[off + I.isEntry] !== 0;
    this.atBase = isEntry;
    let codeAddr = u64At(buf, off + I.code);
    if (I.tagged) codeAddr -= codeAddr % 4; // the low two bits are tags (no 32-bit `&` on an address)
    const instr = u64At(buf, off + I.instr);
    const codeStart = codeAddr + this.layout.code.codeAdaptive!;
    const lasti = instr >= codeStart - 2 ? (instr - codeStart) / 2 : -2;
    const code = this.codeInfo(codeAddr, lasti);
    if (!code.isCode) return previous;
    const f = this.frameOf(code, lasti, opts.locals ? frame + I.localsplus : undefined, I.tagged);
    out.push(isEntry ? this.asEntry(f) : f);
    return previous;
  }

  /** The same frame marked as its eval-loop call's first (StackFrame.entry); frozen frames share one copy. */
  private asEntry(f: StackFrame): StackFrame {
    if (f.entry) return f;
    if (!Object.isFrozen(f)) return Object.assign(f, { entry: true });
    let e = this.entryFrames.get(f);
    if (e === undefined) {
      e = Object.freeze({ ...f, entry: true });
      this.entryFrames.set(f, e);
    }
    return e;
  }

  private frameOf(code: CodeInfo, lasti: number, localsAddr: number | undefined, tagged: boolean): StackFrame {
    let frame = code.frames.get(lasti);
    if (frame === undefined) {
      frame = Object.freeze({
        name: code.name,
        filename: code.filename,
        line: lineFor(this.layout.code.lineTableFormat, code.table, code.firstlineno, lasti),
        firstLine: code.firstlineno,
      });
      // a torn instruction pointer can give any offset: only real ones are kept
      if (Number.isInteger(lasti)) code.frames.set(lasti, frame);
    }
    if (localsAddr === undefined) return frame;
    return { ...frame, locals: this.locals(this.localNames(code), BigInt(localsAddr), tagged) };
  }

  private locals(info: NonNullable<CodeInfo['locals']>, addr: bigint, tagged: boolean): LocalVariable[] {
    const n = info.names.length;
    if (!n) return [];
    const raw = this.snap.read(addr, 8 * info.slotCount);
    const out: LocalVariable[] = [];
    for (let i = 0; i < n; i++) {
      let value = raw.readBigUInt64LE(8 * info.slots[i]);
      if (value === 0n) continue; // not bound yet (or deleted)
      let text: string | undefined;
      if (tagged && (value & 3n) === 3n)
        text = String(BigInt.asIntN(64, value) >> 2n); // 3.14 tagged small int
      else {
        if (tagged) value &= ~3n;
        text = this.valueRepr(value);
        if (text === undefined) continue; // an empty cell: not bound yet either
      }
      out.push({ name: info.names[i], value: text, argument: info.argument[i] });
    }
    return out;
  }

  /** The repr of a local's value; undefined for an empty cell, which f_locals leaves out too. */
  private valueRepr(obj: bigint): string | undefined {
    try {
      const o = this.objects;
      // a cell (a local captured by a closure) shows the value it holds
      if (o.types.cell && o.typeOf(obj) === o.types.cell) {
        const inner = this.snap.ptr(obj + BigInt(this.layout.cell.ref));
        return inner ? o.repr(inner) : undefined;
      }
      return o.repr(obj);
    } catch (e) {
      if (e instanceof MemoryReadError || e instanceof RangeError) return `<unreadable at 0x${obj.toString(16)}>`;
      throw e;
    }
  }

  /**
   * Name, file and line table of a code object, cached by address. The address of a
   * freed code object can be reused by another: a cached entry whose bytecode the
   * frame's instruction offset does not fit is read again at once, and every entry is
   * read again after CODE_RECHECK_MS and kept (with its frames) only if nothing changed.
   */
  private codeInfo(addr: number, lasti: number): CodeInfo {
    const cached = this.codes.get(addr);
    const fits = cached !== undefined && (!cached.isCode || (lasti >= -1 && lasti < cached.lastiLimit));
    if (fits && this.sampleTime - cached.checkedAt < CODE_RECHECK_MS) return cached;
    const info = this.readCode(BigInt(addr));
    if (fits && sameCode(info, cached)) {
      cached.checkedAt = this.sampleTime;
      return cached;
    }
    this.codes.set(addr, info);
    return info;
  }

  private forgetOldCodes(): void {
    const now = nowMs();
    for (const [addr, code] of this.codes) if (now - code.checkedAt > CODE_FORGET_MS) this.codes.delete(addr);
    this.codesSweptAt = now;
  }

  private readCode(addr: bigint): CodeInfo {
    const C = this.layout.code;
    const o = this.objects;
    const raw = this.snap.read(addr, C.size);
    const type = raw.readBigUInt64LE(this.layout.object.type);
    const checkedAt = this.sampleTime;
    const notCode: CodeInfo = {
      isCode: false,
      name: '',
      filename: '',
      firstlineno: 0,
      table: Buffer.alloc(0),
      lastiLimit: 0,
      checkedAt,
      frames: new Map(),
    };
    if (o.types.code !== undefined && type !== o.types.code) {
      if (this.layout.minor >= 13) return notCode; // f_executable may legitimately be None
      throw new MemoryReadError(addr, C.size, 'frame points at something that is not a code object (torn read)');
    }
    const ptr = (off: number) => raw.readBigUInt64LE(off);
    // co_qualname where the code object has one (3.11+), as py-spy 0.4.3 names frames
    // (`Worker.run`), so its users' stacks compare; co_name before (docs/frame-names.md)
    const nameObj = ptr(C.qualname ?? C.name);
    const table = o.bytes(ptr(C.lineTable)).data;
    let lastiLimit: number;
    if (C.bytecode !== undefined) {
      const bytecodeLen = o.bytes(ptr(C.bytecode), 0).length;
      lastiLimit = C.lineTableFormat === 'lnotab' ? bytecodeLen : bytecodeLen / 2;
    } else lastiLimit = Number(raw.readBigInt64LE(this.layout.object.size));
    const info: CodeInfo = {
      isCode: true,
      name: o.str(nameObj, 512).text,
      filename: o.str(ptr(C.filename)).text,
      firstlineno: raw.readInt32LE(C.firstlineno),
      table,
      lastiLimit,
      checkedAt,
      frames: new Map(),
    };
    const flags = raw.readInt32LE(C.flags);
    const argCount =
      raw.readInt32LE(C.argcount) +
      raw.readInt32LE(C.kwonlyargcount) +
      (flags & C.flagVarargs ? 1 : 0) +
      (flags & C.flagVarkeywords ? 1 : 0);
    info.localsFrom =
      C.varnames !== undefined
        ? { names: ptr(C.varnames), nlocals: raw.readInt32LE(C.nlocals!), cellvars: ptr(C.cellvars!), argCount }
        : { names: ptr(C.localsplusnames!), kinds: ptr(C.localspluskinds!), argCount };
    return info;
  }

  /** Names of a code object's local variable slots, and which of them to show. */
  private localNames(code: CodeInfo): NonNullable<CodeInfo['locals']> {
    if (code.locals) return code.locals;
    const C = this.layout.code;
    const from = code.localsFrom!;
    const o = this.objects;
    const all = o.stringTuple(from.names);
    const names: string[] = [];
    const slots: number[] = [];
    const argument: boolean[] = [];
    let slotCount: number;
    if (from.kinds === undefined) {
      // f_localsplus holds the co_nlocals fast locals, then one cell per co_cellvars name
      // (a variable captured by an inner function), then the free variables (the outer
      // function's). An argument that is captured lives in its cell, its fast slot
      // cleared when the call starts: show it from the cell, in its argument's place,
      // as 3.11+ does, rather than dropping it.
      const nlocals = from.nlocals!;
      const cells = o.stringTuple(from.cellvars!);
      slotCount = nlocals + cells.length;
      for (let i = 0; i < nlocals; i++) {
        const cell = i < from.argCount ? cells.indexOf(all[i]) : -1;
        names.push(all[i]);
        slots.push(cell < 0 ? i : nlocals + cell);
        argument.push(i < from.argCount);
      }
      const args = all.slice(0, from.argCount);
      cells.forEach((name, i) => {
        if (args.includes(name)) return; // shown above
        names.push(name);
        slots.push(nlocals + i);
        argument.push(false);
      });
    } else {
      const kinds = o.bytes(from.kinds).data;
      slotCount = all.length;
      // locals and cells (locals captured by an inner function); free variables belong to the outer function
      all.forEach((name, i) => {
        if ((kinds[i] & (C.kindLocal! | C.kindCell!)) === 0) return;
        names.push(name);
        slots.push(i);
        argument.push(i < from.argCount);
      });
    }
    code.locals = { names, slots, argument, slotCount };
    return code.locals;
  }
}

function sameCode(a: CodeInfo, b: CodeInfo): boolean {
  return (
    a.isCode === b.isCode &&
    a.name === b.name &&
    a.filename === b.filename &&
    a.firstlineno === b.firstlineno &&
    a.lastiLimit === b.lastiLimit &&
    a.table.equals(b.table)
  );
}

/** Whether two threads' first frames (when known) are the same: no allocation for a few threads. */
function anyShared(bottoms: Array<number | undefined>): boolean {
  if (bottoms.length > 32) return sharedBottoms(bottoms).length > 0;
  for (let i = 0; i < bottoms.length; i++) {
    const b = bottoms[i];
    if (b === undefined) continue;
    if (bottoms.indexOf(b, i + 1) !== -1) return true;
  }
  return false;
}

/** Whether a thread later in the list has t's thread id or OS thread id. */
function laterThread(read: ThreadRead[], i: number, t: ThreadRead): boolean {
  for (let j = i + 1; j < read.length; j++) {
    if (read[j].threadId === t.threadId || (t.tid !== undefined && read[j].tid === t.tid)) return true;
  }
  return false;
}

/** Indices of the threads whose first frame (when known) another thread's is too. */
function sharedBottoms(bottoms: Array<number | undefined>): number[] {
  const count = new Map<number, number>();
  for (const b of bottoms) if (b !== undefined) count.set(b, (count.get(b) ?? 0) + 1);
  const shared: number[] = [];
  bottoms.forEach((b, i) => {
    if (b !== undefined && count.get(b)! > 1) shared.push(i);
  });
  return shared;
}

function activityOf(pid: number, tid: number): ThreadActivity {
  const state = threadState(pid, tid);
  return state === undefined ? 'unknown' : state === 'R' ? 'active' : 'idle';
}
