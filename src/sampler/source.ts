// The sampler's view of the out-of-process reader (reader/reader.ts): one sample is
// every thread of every interpreter, with torn frames turned into a counted error and
// py-spy's idle heuristic applied on top of the kernel's running state.
import { openReader } from '../reader/reader.js';
import type { ThreadStack } from '../reader/types.js';
import type { SampleOptions, SampleSource, ThreadSample } from './types.js';
import { ThreadStates } from './thread-states.js';
import { LEFT_OUT_FRAME } from './validate.js';

/**
 * Top frames that mean "waiting" even while the kernel reports the thread running (it
 * may be between a wake-up and its next sleep): threading's waits and selectors.
 */
const WAIT_FRAMES: Array<[name: RegExp, file: RegExp]> = [
  [/^(Condition\.)?wait$/, /[/\\]threading\.py$/],
  [/^((Epoll|Poll|Select|Kqueue|Devpoll)Selector\.)?select$/, /[/\\]selectors\.py$/],
  [/^poll$/, /[/\\](asyncore|zmq[/\\].*|gevent[/\\].*|tornado[/\\].*)\.py$/],
];

/** looksIdle's answer per top frame: the reader shares one frozen frame object per code object and line between samples. */
const waitingTops = new WeakMap<object, boolean>();

export function looksIdle(t: Pick<ThreadSample, 'frames'>): boolean {
  const top = t.frames[0];
  if (!top) return false;
  let waiting = waitingTops.get(top);
  if (waiting === undefined) {
    waiting = WAIT_FRAMES.some(([name, file]) => name.test(top.name) && file.test(top.filename));
    if (Object.isFrozen(top)) waitingTops.set(top, waiting);
  }
  return waiting;
}

/** Converts one reader thread; a stack the reader could not read consistently stays marked torn. */
export function toThreadSample(t: ThreadStack, states?: Map<number, string>): ThreadSample {
  // a thread the kernel could not tell us about is shown rather than hidden
  const running = states && t.tid !== undefined ? states.get(t.tid) === 'R' : t.activity !== 'idle';
  const s: ThreadSample = {
    threadId: t.threadId,
    nativeTid: t.tid,
    name: t.name,
    holdsGil: t.holdsGil,
    active: running,
    // the reader's frames (read without locals) are frozen and shared between samples: passed on as they are
    frames: t.truncated ? [...t.frames, LEFT_OUT_FRAME] : t.frames,
  };
  if (t.torn !== undefined) s.torn = t.torn;
  if (s.active && looksIdle(s)) s.active = false;
  return s;
}

export async function openPythonSource(pid: number): Promise<SampleSource> {
  const reader = await openReader(pid);
  const states = new ThreadStates(pid);
  let lastTids: number[] | undefined;
  return {
    pid,
    sample(opts: SampleOptions = {}): ThreadSample[] {
      // the scheduler states come from here (files kept open) rather than from the reader,
      // asked before each stack is walked: without --idle an idle thread's is not read;
      // with states read before a pause (--blocking) they must not be read again
      const given = opts.threadStates;
      states.begin();
      const dump = reader.sample({
        activity: false,
        threadState: given ? (tid) => given.get(tid) : states.stateOf,
        walkIdle: opts.idle !== false,
        threadNames: opts.threadNames !== false,
      });
      states.end();
      const out: ThreadSample[] = [];
      let known: number[] | undefined = [];
      for (const t of dump.threads) {
        if (t.tid === undefined) known = undefined;
        else known?.push(t.tid);
        out.push(toThreadSample(t));
      }
      lastTids = known;
      return out;
    },
    pythonTids: () => lastTids,
    close: () => {
      states.close();
      reader.close();
    },
  };
}
