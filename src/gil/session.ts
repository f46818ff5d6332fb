// Runs the gilstat sampler of one process on a worker thread and hands its messages to
// whoever iterates the session. The samplers this client runs are registered by pid, so
// `gilstat off` (or the end of the client) stops them; `gilstat off` in another spyglass
// process reaches them through owners.ts.
import { Worker } from 'node:worker_threads';
import type { GilWorkerConfig, GilWorkerMessage } from './messages.js';
import { OFF_SIGNAL, claim, release, stillClaimed } from './owners.js';

export interface GilstatOptions {
  takeMs?: number;
  holdMs?: number;
  /** samples per second */
  rateHz?: number;
  /** how often a table is sent */
  reportEveryMs?: number;
}

export const DEFAULT_RATE_HZ = 2000;
export const DEFAULT_REPORT_MS = 5000;

const running = new Map<number, GilstatSession>();

/** On OFF_SIGNAL: `gilstat off` in another process removed the markers of the samplers to stop. */
function stopDisowned(): void {
  for (const [pid, session] of running) if (!stillClaimed(pid)) void session.stop();
}

export class GilstatSession implements AsyncIterable<GilWorkerMessage> {
  private readonly worker: Worker;
  private readonly stopFlag = new SharedArrayBuffer(4);
  private readonly queue: GilWorkerMessage[] = [];
  private wake?: () => void;
  private ended = false;
  private readonly exited: Promise<void>;

  private constructor(
    readonly pid: number,
    opts: GilstatOptions,
  ) {
    const cfg: GilWorkerConfig = {
      pid,
      rateHz: opts.rateHz ?? DEFAULT_RATE_HZ,
      reportEveryMs: opts.reportEveryMs ?? DEFAULT_REPORT_MS,
      takeMs: opts.takeMs,
      holdMs: opts.holdMs,
      stop: this.stopFlag,
    };
    this.worker = new Worker(new URL('./sampler-worker.js', import.meta.url), { workerData: cfg });
    this.worker.on('message', (m: GilWorkerMessage) => this.push(m));
    this.worker.on('error', (e) => this.push({ type: 'error', message: e.message, user: false, stack: e.stack }));
    this.exited = new Promise((resolve) =>
      this.worker.on('exit', () => {
        this.ended = true;
        if (running.get(pid) === this) {
          running.delete(pid);
          release(pid);
        }
        this.wake?.();
        resolve();
      }),
    );
  }

  /** Starts sampling `pid`; a sampler this client already runs for it is stopped first. */
  static async start(pid: number, opts: GilstatOptions = {}): Promise<GilstatSession> {
    await running.get(pid)?.stop();
    const s = new GilstatSession(pid, opts);
    running.set(pid, s);
    claim(pid);
    // kept for good once set: a late signal then does nothing (see owners.ts)
    if (!process.listeners(OFF_SIGNAL).includes(stopDisowned)) process.on(OFF_SIGNAL, stopDisowned);
    return s;
  }

  static get(pid: number): GilstatSession | undefined {
    return running.get(pid);
  }

  /** Ends sampling; the worker sends its last table before it exits. */
  async stop(): Promise<void> {
    const flag = new Int32Array(this.stopFlag);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    const timer = setTimeout(() => void this.worker.terminate(), 3000);
    await this.exited;
    clearTimeout(timer);
  }

  private push(m: GilWorkerMessage): void {
    this.queue.push(m);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<GilWorkerMessage> {
    for (;;) {
      const m = this.queue.shift();
      if (m) {
        yield m;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
