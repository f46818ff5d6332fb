// The gilstat sampling loop. It runs on a worker thread because it is synchronous and
// fast (thousands of reads a second) and must not stall the shell. Per tick: one read of
// the GIL struct; when the GIL's condition variable has sleepers, one read of
// /proc/PID/task/TID/syscall per other thread to see which of them they are. Every
// report period it posts the table; when a hold or a wait goes over its threshold it
// reads that thread's Python stack at once, and posts the report when the episode ends.
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../errors.js';
import { GilAccounting, type FinishedEpisode, type ThreadGilStats } from './accounting.js';
import { GIL_STRUCT_SIZE, decodeGil, futexRole } from '../reader/gil.js';
import { KernelWaits } from './kernel-wait.js';
import type { GilProbe, GilThread, StackFrame } from './probe.js';
import { openGilProbe } from './reader-probe.js';
import type { GilReport, GilWorkerConfig, GilWorkerMessage, GilThreadRow } from './messages.js';

const cfg = workerData as GilWorkerConfig;
const stopFlag = new Int32Array(cfg.stop);
const post = (m: GilWorkerMessage) => parentPort!.postMessage(m);

const THREAD_REFRESH_NS = 500_000_000n;
const ns = (ms: number | undefined) => (ms === undefined ? undefined : BigInt(Math.round(ms * 1e6)));

function rows(stats: ThreadGilStats[], names: Map<bigint, GilThread>): GilThreadRow[] {
  return stats.map((s) => {
    const th = names.get(s.tstate);
    return {
      ident: s.tstate.toString(),
      tid: th?.tid,
      thread_name: th?.name ?? '?',
      takecnt: s.takecnt,
      hold_all: Number(s.holdAll),
      holdavg: s.takecnt ? Math.round(Number(s.holdAll) / s.takecnt) : 0,
      take_all: Number(s.takeAll),
      takeavg: s.takecnt ? Math.round(Number(s.takeAll) / s.takecnt) : 0,
      dropcnt: s.dropcnt,
      drop_all: Number(s.dropAll),
      dropavg: s.dropcnt ? Math.round(Number(s.dropAll) / s.dropcnt) : 0,
    };
  });
}

function run(probe: GilProbe): void {
  const acc = new GilAccounting({ takeThresholdNs: ns(cfg.takeMs), holdThresholdNs: ns(cfg.holdMs) });
  const waits = new KernelWaits(cfg.pid);
  const buf = Buffer.alloc(GIL_STRUCT_SIZE);
  const periodNs = BigInt(Math.round(1e9 / cfg.rateHz));
  const reportNs = BigInt(cfg.reportEveryMs) * 1_000_000n;
  const known = new Map<bigint, GilThread>();
  // stacks read when an episode crossed its threshold, keyed by kind + thread state (and,
  // for a long wait, the stack of the thread holding the GIL then: the one it waits for)
  const pendingStacks = new Map<string, { stack: StackFrame[]; at: bigint; holder?: GilReport['holder'] }>();
  // CLOCK_MONOTONIC to wall clock, for the `time` columns
  const wallOffsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  const wallMs = (t: bigint) => Number((t + wallOffsetNs) / 1_000_000n);
  const gone: GilThreadRow[] = [];

  const refreshThreads = (recheckUnnamed = false) => {
    const now = probe.threads(recheckUnnamed);
    const live = new Set(now.map((t) => t.ident));
    for (const [ts, th] of known) {
      if (!live.has(ts)) {
        const last = acc.retire(ts);
        if (last) gone.push(...rows([last], new Map([[ts, th]])));
        known.delete(ts);
      }
    }
    for (const t of now) known.set(t.ident, t);
    waits.keepOnly(now.flatMap((t) => (t.tid === undefined ? [] : [t.tid])));
  };

  const report = (e: FinishedEpisode) => {
    const key = `${e.kind}:${e.tstate}`;
    const captured = pendingStacks.get(key);
    pendingStacks.delete(key);
    const th = known.get(e.tstate);
    post({
      type: 'report',
      kind: e.kind,
      ident: e.tstate.toString(),
      thread_name: th?.name ?? '?',
      tid: th?.tid,
      duration_ns: Number(e.durationNs),
      start_ns: e.start.toString(),
      time_ms: wallMs(e.start),
      threshold_ns: Number(ns(e.kind === 'hold' ? cfg.holdMs : cfg.takeMs) ?? 0n),
      stack: captured?.stack ?? [],
      stack_at_ns: captured?.at.toString(),
      holder: captured?.holder,
      stack_missing: !captured
        ? 'no sample came while it went on past the threshold: the sampler was not scheduled (a busy machine), so only its start and end were seen'
        : captured.stack.length
          ? undefined
          : 'its stack could not be read (its frames changed during the read)',
    });
  };

  const table = (final: boolean) => {
    // a thread first seen before threading registered it is named again before it is shown
    for (const th of known.values())
      if (!th.named) {
        refreshThreads(true);
        break;
      }
    const start = acc.start ?? 0n;
    const end = acc.last ?? start;
    post({
      type: 'table',
      final,
      window: { start_ns: start.toString(), end_ns: end.toString() },
      time_ms: wallMs(end),
      samples: acc.samples,
      rate_hz: end > start ? Math.round((acc.samples - 1) / (Number(end - start) / 1e9)) : 0,
      switches: Number(acc.switchesExact),
      switches_seen: acc.switchesSeen,
      free_ns: Number(acc.freeNs),
      uncertain_ns: Number(acc.uncertainNs),
      threads: rows(acc.snapshot(), known).concat(gone),
    });
  };

  refreshThreads();
  post({ type: 'started', version: probe.version, gil: '0x' + probe.gilAddr.toString(16), rate_hz: cfg.rateHz });
  let lastRefresh = process.hrtime.bigint();
  let lastReport = lastRefresh;
  let next = lastRefresh;
  const waiting = new Set<bigint>();
  const dropping = new Set<bigint>();
  while (Atomics.load(stopFlag, 0) === 0) {
    probe.readGil(buf);
    const t = process.hrtime.bigint();
    const gil = decodeGil(buf);
    waiting.clear();
    dropping.clear();
    let holder = gil.holder !== 0n ? (probe.identOf(gil.holder) ?? 0n) : 0n;
    if (holder !== 0n && !known.has(holder)) {
      refreshThreads(); // a thread started since the last look
      holder = probe.identOf(gil.holder) ?? 0n;
    }
    // nobody sleeps on the GIL's condvars: no need to ask the kernel about each thread
    if (gil.condWaiters !== 0 || gil.switchWaiters !== 0) {
      for (const th of known.values()) {
        if (th.tid === undefined || th.ident === holder) continue;
        const k = waits.read(th.tid);
        const role = k?.futex !== undefined ? futexRole(probe.gilAddr, k.futex) : undefined;
        if (role === 'take') waiting.add(th.ident);
        else if (role === 'drop') dropping.add(th.ident);
      }
    }
    const ev = acc.add({ t, holder, switches: gil.switches, waiting, dropping });
    // each thread's stack read at most once per tick (a stack read is many memory reads,
    // and the sampler must get back to sampling); a holder whose own long hold was captured
    // already is in that same episode: its stack then is the one wanted
    const readNow = new Map<bigint, StackFrame[]>();
    const stackOf = (ts: bigint) => readNow.get(ts) ?? readNow.set(ts, probe.stack(ts)).get(ts)!;
    for (const c of ev.crossed) {
      const by = c.kind === 'take' && holder !== 0n ? known.get(holder) : undefined;
      const holderNow = by
        ? {
            ident: holder.toString(),
            thread_name: by.name,
            tid: by.tid,
            stack: pendingStacks.get(`hold:${holder}`)?.stack ?? stackOf(holder),
          }
        : undefined;
      pendingStacks.set(`${c.kind}:${c.tstate}`, { stack: stackOf(c.tstate), at: process.hrtime.bigint(), holder: holderNow });
    }
    for (const f of ev.finished) report(f);
    if (t - lastRefresh > THREAD_REFRESH_NS) {
      refreshThreads();
      lastRefresh = t;
    }
    if (t - lastReport >= reportNs) {
      table(false);
      lastReport = t;
    }
    next += periodNs;
    const now = process.hrtime.bigint();
    if (next < now) next = now; // behind: no catch-up burst
    // Atomics.wait oversleeps by ~80 us; aim a little early
    const ms = Number(next - now) / 1e6 - 0.08;
    if (ms > 0) Atomics.wait(stopFlag, 0, 0, ms);
  }
  table(true);
  waits.close();
}

/** Opens the probe and samples until stopped; a failure is posted to the session. */
async function main(): Promise<void> {
  let probe: GilProbe | undefined;
  try {
    probe = await openGilProbe(cfg.pid);
    run(probe);
  } catch (e) {
    const user = e instanceof UserError;
    post({
      type: 'error',
      message: (e as Error).message,
      hint: user ? (e as UserError).hint : undefined,
      user,
      stack: user ? undefined : (e as Error).stack,
    });
  } finally {
    probe?.close();
  }
}

// not a top-level await: the bundled worker is CommonJS (docs/bundle.md)
void main();
