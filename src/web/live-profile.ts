// A live profile for the web page: the sampler record uses, filtered here (idle, GIL)
// rather than in the sampler so that a filter can change without reopening the
// process, aggregated into one StackProfile with a root frame per thread (the page's
// thread filter). Every second the page gets the aggregate (unique stacks and counts,
// not the samples) and what that second saw of the GIL. Pausing stops the sampler: a
// paused page costs the target nothing.
import { cachedShortener } from '../sampler/filenames.js';
import { StackProfile, threadLabel } from '../sampler/profile.js';
import { Sampler, type Tick } from '../sampler/sampler.js';
import { openPythonSource } from '../sampler/source.js';
import { processInfo } from '../proc/process.js';
import { UserError } from '../errors.js';
import { FORMATS } from '../formats/index.js';
import type { ProfileEntry, ProfileRegistry } from './profiles.js';
import type { LiveWindow, ServerMessage } from './protocol.js';
import { stackTableOf } from './profile-table.js';
import { nowMs } from '../clock.js';

export interface LiveOptions {
  pid: number;
  rate: number;
  gil: boolean;
  idle: boolean;
}

const PUSH_MS = 1000;
/** the first aggregate goes out sooner: the page shows something right after the click */
const FIRST_PUSH_MS = 250;

/**
 * thread samples the timeline keeps for the speedscope and chrometrace downloads (about
 * 16 bytes each, so a few MB): a live profile left running for hours keeps its most
 * recent stretch (about 50 minutes of one busy thread at 100 Hz) rather than growing
 * for as long as it runs; the aggregate the page draws counts every sample.
 */
const TIMELINE_CAP = 300_000;

export class LiveProfile {
  private opts: LiveOptions;
  /** set once the process is open (resume), before any sample */
  private profile!: StackProfile;
  private entry!: ProfileEntry;
  private stop?: AbortController;
  private running?: Promise<void>;
  private readonly push: ReturnType<typeof setInterval>;
  private readonly firstPush: ReturnType<typeof setTimeout>;
  private readonly started = nowMs();
  private sampledBefore = 0;
  private runStarted = 0;
  private errors = 0;
  private window = { ticks: 0, gil: 0, holders: new Map<string, number>() };
  private ended = false;
  private readonly shorten: (f: string) => string;
  private title = '';

  constructor(
    opts: LiveOptions,
    private readonly registry: ProfileRegistry,
    private readonly send: (m: ServerMessage) => void,
  ) {
    this.opts = opts;
    this.shorten = cachedShortener(`/proc/${opts.pid}/root`);
    this.push = setInterval(() => this.sendUpdate(), PUSH_MS);
    this.firstPush = setTimeout(() => this.sendUpdate(), FIRST_PUSH_MS);
  }

  /** Opens the process (a bad pid fails here) and starts sampling. */
  async start(): Promise<void> {
    try {
      this.title = processInfo(this.opts.pid).cmdline;
    } catch {
      /* the sampler says why */
    }
    await this.resume();
  }

  private newProfile(): void {
    this.profile = new StackProfile(
      { threadRoots: true, timeline: true, timelineCap: TIMELINE_CAP, shorten: (f) => this.shorten(f) },
      { rate: this.opts.rate, startedAt: Date.now(), title: this.title || `process ${this.opts.pid}` },
    );
    const when = new Date().toISOString().slice(11, 19);
    this.entry = this.registry.addLive(`live ${this.opts.pid} ${when}${this.opts.gil ? ' (GIL)' : ''}`, this.profile);
  }

  get paused(): boolean {
    return !this.stop;
  }

  async resume(): Promise<void> {
    if (this.stop || this.ended) return;
    const stop = new AbortController();
    const sampler = new Sampler({
      pid: this.opts.pid,
      rate: this.opts.rate,
      idle: true,
      openSource: openPythonSource,
      signal: stop.signal,
      onTick: (t) => this.onTick(t),
    });
    await sampler.openRoot();
    // listed once the process could be opened: a wrong pid leaves nothing behind
    if (!this.profile) this.newProfile();
    this.stop = stop;
    this.runStarted = nowMs();
    this.running = sampler.run().then(
      (stats) => {
        this.errors += stats.errors;
        this.profile.meta.errors = this.errors;
        if (stats.targetExited) this.end(`process ${this.opts.pid} exited`);
      },
      (e: unknown) => this.end(e instanceof UserError ? e.message : `sampling failed: ${(e as Error).message}`),
    );
  }

  async pause(): Promise<void> {
    const stop = this.stop;
    if (!stop) return;
    this.stop = undefined;
    stop.abort();
    await this.running;
    this.sampledBefore += (nowMs() - this.runStarted) / 1000;
    this.sendUpdate();
  }

  /** Starts the aggregate again, under the filters given (the old one stays listed). */
  reset(filters: Partial<Pick<LiveOptions, 'gil' | 'idle'>> = {}): void {
    this.opts = { ...this.opts, ...filters };
    this.sampledBefore = 0;
    this.runStarted = nowMs();
    this.newProfile();
    this.sendUpdate();
  }

  private onTick(t: Tick): void {
    const time = this.sampledBefore + t.time;
    this.profile.tick(time);
    this.window.ticks++;
    for (const s of t.read) {
      const th = s.thread;
      if (th.holdsGil) {
        this.window.gil++;
        const label = threadLabel(th.nativeTid, th.threadId, th.name);
        this.window.holders.set(label, (this.window.holders.get(label) ?? 0) + 1);
      }
      if (!th.frames.length) continue;
      if (!this.opts.idle && !th.active) continue;
      if (this.opts.gil && !th.holdsGil) continue;
      this.profile.add(s);
    }
    this.profile.meta.duration = time;
  }

  private sendUpdate(): void {
    if (this.ended || !this.entry) return;
    const w = this.window;
    const n = w.ticks || 1;
    const window: LiveWindow = {
      at: (nowMs() - this.started) / 1000,
      ticks: w.ticks,
      gilPct: (100 * w.gil) / n,
      holders: Object.fromEntries([...w.holders].map(([k, v]) => [k, (100 * v) / n])),
    };
    this.window = { ticks: 0, gil: 0, holders: new Map() };
    this.send({
      type: 'live',
      profileId: this.entry.id,
      table: stackTableOf(this.profile),
      ticks: this.profile.meta.ticks,
      errors: this.errors,
      elapsed: this.profile.meta.duration,
      paused: this.paused,
      gil: this.opts.gil,
      idle: this.opts.idle,
      window,
      formats: FORMATS,
    });
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.sendUpdate();
    this.ended = true;
    this.stop = undefined;
    clearInterval(this.push);
    clearTimeout(this.firstPush);
    this.send({ type: 'live-ended', reason });
  }

  /** Stops sampling for good (the page left, or asked); the profile stays listed. */
  async close(): Promise<void> {
    clearInterval(this.push);
    clearTimeout(this.firstPush);
    const stop = this.stop;
    this.stop = undefined;
    this.ended = true;
    stop?.abort();
    await this.running;
  }
}
