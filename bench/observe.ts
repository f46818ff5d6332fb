// Benchmark of watch and trace: the cost they add to the observed program, measured by the
// program itself (test/targets/observe_bench.py times alternating batches of a hot
// function of a few µs and of a request handler with a 1 ms database wait, sync and
// async def on an asyncio loop). Each observed
// window is compared with the unobserved windows right before and after it, in the same
// run, so a loaded machine shifts both alike. The reference tool (PyFlightProfiler) is run
// on the same workload in the same run when it can be installed.
//   npx tsc -p tsconfig.json && node dist/bench/observe.js [python3.11]
// (BENCH_ONLY=<part of a row's label> runs only the matching rows)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import { PACKAGE_ROOT } from '../src/paths.js';
import { startAgentTarget } from '../test/helpers/agent-target.js';
import { discoverPythons } from '../test/helpers/pythons.js';
import { startTarget, type Target } from '../test/helpers/targets.js';

const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 6000);
const SETTLE_MS = 1000; // after a tool says it started/stopped, before a window opens
const FOREVER = 100000000; // -n for "every call until stopped"
const REFERENCE_STEP_MS = 120000; // longest wait for one answer of the reference tool's driver
const VENV = '/tmp/bench-venv-fp2';
const VENV_BASE = '/root/.pyenv/versions/3.11.7/bin/python3.11';

interface Batch {
  kind: 'HOT' | 'SERVE' | 'ASERVE';
  start: number;
  end: number;
  wall: number; // ns per hot call, or µs per request
  cpu: number; // the same in the process's CPU time (all threads: the observer's too)
}

type Figures = { hot: number; serve: number; serveWall: number; aserve: number; aserveWall: number };

function batches(target: Target): Batch[] {
  return target
    .stdout()
    .split('\n')
    .map((l) => /^(HOT|SERVE|ASERVE) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ kind: m[1] as Batch['kind'], start: Number(m[2]), end: Number(m[3]), wall: Number(m[4]), cpu: Number(m[5]) }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

/** medians over the batches that ran wholly inside [t0, t1] */
function windowOf(target: Target, t0: number, t1: number): Figures {
  const inside = batches(target).filter((b) => b.start >= t0 && b.end <= t1);
  const hot = inside.filter((b) => b.kind === 'HOT');
  const serve = inside.filter((b) => b.kind === 'SERVE');
  const aserve = inside.filter((b) => b.kind === 'ASERVE');
  return {
    hot: median(hot.map((b) => b.cpu)),
    serve: median(serve.map((b) => b.cpu)),
    serveWall: median(serve.map((b) => b.wall)),
    aserve: median(aserve.map((b) => b.cpu)),
    aserveWall: median(aserve.map((b) => b.wall)),
  };
}

async function window(target: Target): Promise<Figures> {
  const t0 = Date.now() / 1000;
  await sleep(WINDOW_MS);
  return windowOf(target, t0, Date.now() / 1000);
}

/** A tool under test: starts an observation (resolves once it is in), and stops it. */
interface Tool {
  start(mode: Mode): Promise<void>;
  stop(mode: Mode): Promise<void>;
}

interface Mode {
  label: string;
  spyglass: { cmd: string; args: Record<string, unknown> };
  reference: string; // the reference tool's command line
}

const MODES: Mode[] = [
  {
    label: 'watch hot, filter rejects every call',
    spyglass: { cmd: 'watch', args: { method: 'hot', filter: 'False' } },
    reference: `watch __main__ hot -f False -n ${FOREVER}`,
  },
  {
    label: 'watch hot, every call shown (args,kwargs)',
    spyglass: { cmd: 'watch', args: { method: 'hot' } },
    reference: `watch __main__ hot -n ${FOREVER}`,
  },
  {
    label: 'trace hot, -i 0.1',
    spyglass: { cmd: 'trace', args: { method: 'hot', interval: 0.1 } },
    reference: `trace __main__ hot -n ${FOREVER}`,
  },
  {
    label: 'trace handle_request, -i 0.1',
    spyglass: { cmd: 'trace', args: { method: 'handle_request', interval: 0.1 } },
    reference: `trace __main__ handle_request -n ${FOREVER}`,
  },
  {
    // recording alone: every call recorded, none shipped (none costs more than -et)
    label: 'trace handle_request, -i 0.1, -et rejects every call',
    spyglass: { cmd: 'trace', args: { method: 'handle_request', interval: 0.1, entrance: 1e9 } },
    reference: `trace __main__ handle_request -et 1000000000 -n ${FOREVER}`,
  },
  {
    // the same handler as an async def: its database wait is awaited on an asyncio loop
    label: 'trace handle_request_async, -i 0.1',
    spyglass: { cmd: 'trace', args: { method: 'handle_request_async', interval: 0.1 } },
    reference: `trace __main__ handle_request_async -n ${FOREVER}`,
  },
  {
    label: 'trace handle_request_async, -i 0.1, -et rejects every call',
    spyglass: { cmd: 'trace', args: { method: 'handle_request_async', interval: 0.1, entrance: 1e9 } },
    reference: `trace __main__ handle_request_async -et 1000000000 -n ${FOREVER}`,
  },
].filter((m) => m.label.includes(process.env.BENCH_ONLY ?? ''));

interface Row {
  tool: string;
  mode: string;
  base: Figures;
  observed: Figures;
  note?: string;
}

const mean = (a: Figures, b: Figures): Figures => ({
  hot: (a.hot + b.hot) / 2,
  serve: (a.serve + b.serve) / 2,
  serveWall: (a.serveWall + b.serveWall) / 2,
  aserve: (a.aserve + b.aserve) / 2,
  aserveWall: (a.aserveWall + b.aserveWall) / 2,
});

/** Every mode between two unobserved windows; returns one row per mode. */
async function run(toolName: string, target: Target, tool: Tool): Promise<Row[]> {
  const rows: Row[] = [];
  let before = await window(target);
  for (const mode of MODES) {
    await tool.start(mode);
    await sleep(SETTLE_MS);
    const during = await window(target);
    await tool.stop(mode);
    await sleep(SETTLE_MS);
    if (!target.alive()) {
      rows.push({
        tool: toolName,
        mode: mode.label,
        base: before,
        observed: during,
        note: 'the target died when the observation stopped: ' + target.stderr().trim().split('\n').slice(-1)[0],
      });
      break;
    }
    const afterWindow = await window(target);
    rows.push({ tool: toolName, mode: mode.label, base: mean(before, afterWindow), observed: during });
    before = afterWindow;
  }
  return rows;
}

async function spyglass(python: string): Promise<Row[]> {
  const py = discoverPythons().find((p) => p.path === python);
  if (!py) throw new Error(`${python} is not one of the interpreters discoverPythons() finds`);
  const target = await startAgentTarget(py, { script: 'observe_bench.py' });
  const client = await target.attach();
  const running = new Map<string, { cancel(): void; done: Promise<void> }>();
  try {
    return await run('spyglass', target, {
      async start(mode) {
        const stream = client.request(mode.spyglass.cmd, { module: '__main__', limit: FOREVER, ...mode.spyglass.args });
        let started = () => {};
        const isStarted = new Promise<void>((r) => (started = r));
        const done = (async () => {
          for await (const ev of stream) if (ev.event === 'started') started();
        })();
        await Promise.race([isStarted, done]);
        running.set(mode.label, { cancel: () => stream.cancel(), done });
      },
      async stop(mode) {
        const r = running.get(mode.label)!;
        r.cancel();
        await r.done;
      },
    });
  } finally {
    client.close();
    await target.stop();
  }
}

/** The reference tool's virtualenv (created on first use); null with the reason when it cannot be had. */
function referenceVenv(): { python: string } | { skipped: string } {
  const python = join(VENV, 'bin', 'python');
  if (!existsSync(join(VENV, 'bin', 'flight_profiler'))) {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const make = spawnSync(VENV_BASE, ['-m', 'venv', VENV], { encoding: 'utf8' });
    if (make.status !== 0) return { skipped: `python -m venv failed: ${make.stderr.trim()}` };
    const pip = spawnSync(join(VENV, 'bin', 'pip'), ['install', '-q', 'flight_profiler'], { encoding: 'utf8', env });
    if (pip.status !== 0)
      return { skipped: `pip install flight_profiler failed (PyPI unreachable?): ${pip.stderr.trim().split('\n').slice(-1)[0]}` };
  }
  return { python };
}

async function reference(): Promise<Row[] | string> {
  const venv = referenceVenv();
  if ('skipped' in venv) return venv.skipped;
  const target = await startTarget(venv.python, 'observe_bench.py');
  const driver = spawn(venv.python, ['-u', join(PACKAGE_ROOT, 'bench', 'observe_fp.py'), String(target.pid)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: driver.stdout! })[Symbol.asyncIterator]();
  const expect = async (what: RegExp) => {
    for (;;) {
      // its driver has been seen to hang (its agent thread kept the target's exit waiting)
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} from its driver within ${REFERENCE_STEP_MS / 1000} s`)), REFERENCE_STEP_MS);
      });
      const { value, done } = await Promise.race([lines.next(), timeout]).finally(() => clearTimeout(timer));
      if (done) throw new Error(`the reference tool's driver exited before printing ${what}`);
      if (what.test(value)) return value;
      if (/^FAILED/.test(value)) throw new Error(value);
    }
  };
  try {
    await expect(/^ATTACHED /);
    return await run('PyFlightProfiler', target, {
      async start(mode) {
        driver.stdin!.write(`on ${mode.reference}\n`);
        await expect(/^ON$/);
        await sleep(SETTLE_MS); // its hook is installed by its agent after the request
      },
      async stop(mode) {
        driver.stdin!.write(`off ${mode.reference}\n`);
        await expect(/^OFF$/);
      },
    });
  } catch (e) {
    return `the reference tool could not be run: ${(e as Error).message}`;
  } finally {
    driver.kill('SIGKILL');
    await target.stop();
  }
}

function print(rows: Row[]): void {
  // CPU time (the whole process's) is what an observer adds and what other processes'
  // load hardly moves; a request's slowdown is that added CPU over its unobserved wall time
  console.log(
    '| tool | observation | hot(): CPU ns/call, unobserved → observed | added per call | request: CPU µs, unobserved → observed | added per request | slowdown (added / unobserved wall) | measured wall change ' +
      '| async request: CPU µs, unobserved → observed | added per async request | async slowdown |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const { base, observed } = r;
    const addedServe = observed.serve - base.serve;
    const addedAsync = observed.aserve - base.aserve;
    console.log(
      `| ${r.tool} | ${r.mode} | ${base.hot.toFixed(0)} → ${observed.hot.toFixed(0)} | ${((observed.hot - base.hot) / 1000).toFixed(2)} µs | ` +
        `${base.serve.toFixed(0)} → ${observed.serve.toFixed(0)} | ${addedServe.toFixed(0)} µs | ${((addedServe / base.serveWall) * 100).toFixed(1)}% | ` +
        `${((observed.serveWall / base.serveWall - 1) * 100).toFixed(1)}%${r.note ? ` (${r.note})` : ''} | ` +
        `${base.aserve.toFixed(0)} → ${observed.aserve.toFixed(0)} | ${addedAsync.toFixed(0)} µs | ${((addedAsync / base.aserveWall) * 100).toFixed(1)}% |`,
    );
  }
}

async function main(): Promise<void> {
  const python = process.argv[2] ?? VENV_BASE;
  const load = spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.trim();
  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; python ${python}; load average at start ${load}`,
  );
  const rows = await spyglass(python);
  const ref = await reference();
  print(typeof ref === 'string' ? rows : [...rows, ...ref]);
  if (typeof ref === 'string') console.log(`\nreference tool not compared: ${ref}`);
  console.log(`\nload average at end ${spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.trim()}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
