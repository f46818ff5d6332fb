// Benchmark of `spyglass web`'s live profile (issue 15), against `spyglass record` alone:
//  1. profiler CPU: `spyglass web` running a live profile at 100 Hz and `spyglass record`
//     at 100 Hz sample the same target at the same time; each process's CPU (from
//     /proc/PID/stat) over the same window, start-up left out;
//  2. time from the request (the page's click) to the first aggregate with stacks in it;
//  3. the size of the aggregate message the page receives each second, as the profile
//     runs (bounded by distinct stacks, not by samples);
//  4. with --page-minutes N: the page itself in headless Chromium running a live profile
//     for N minutes, its JavaScript heap (after a garbage collection) and DOM size along
//     the way, and the server's heap after a garbage collection (a server started in this
//     process for that part, so that it can be collected: run with node --expose-gc);
//  5. in headless Chromium: the click on "Start live profile" to the first flame graph
//     drawn on the page (5 fresh pages).
// Run with
//   npm run build && node --expose-gc dist/bench/web.js [path/to/python] [seconds] [--page-minutes N]
// Copy the tables into BENCHMARKS.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { PACKAGE_ROOT } from '../src/paths.js';
import type { ServerMessage } from '../src/web/protocol.js';
import { launchChromium } from '../test/helpers/chromium.js';
import { startProfileTarget } from '../test/helpers/profiles.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');
const CLK_TCK = 100;
const WARMUP_S = 5;
const args = process.argv.slice(2);
const pageAt = args.indexOf('--page-minutes');
const PAGE_MINUTES = pageAt >= 0 ? Number(args.splice(pageAt, 2)[1]) : 0;
const py = args[0] ?? '/root/.pyenv/versions/3.11.7/bin/python3.11';
const WINDOW_S = Number(args[1] ?? 20);
const work = mkdtempSync(join(tmpdir(), 'spyglass-bench-web-'));
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

function cpuSeconds(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function env(): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.NODE_EXTRA_CA_CERTS;
  return e;
}

async function startWeb(): Promise<{ proc: ChildProcess; url: URL }> {
  const proc = spawn(process.execPath, [CLI, 'web', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'], env: env() });
  children.push(proc);
  let out = '';
  const url = await new Promise<URL>((resolve, reject) => {
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /open (http:\S+)/.exec(out);
      if (m) resolve(new URL(m[1]));
    });
    proc.once('exit', (c) => reject(new Error(`spyglass web exited ${c}`)));
  });
  return { proc, url };
}

function connect(url: URL): Promise<WebSocket> {
  const ws = new WebSocket(`ws://${url.host}/ws?token=${url.searchParams.get('token')}`, { headers: { origin: `http://${url.host}` } });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const target = await startProfileTarget(py, 'profile_split.py');
  try {
    const { proc: web, url } = await startWeb();
    console.log(
      `machine: ${cpus().length} × ${cpus()[0].model}, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; target: ${py} test/targets/profile_split.py\n`,
    );

    // 2. request → first aggregate with stacks, on a fresh connection each time
    const firsts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const ws = await connect(url);
      const t0 = performance.now();
      const first = new Promise<number>((resolve) =>
        ws.on('message', (d) => {
          const m = JSON.parse(String(d)) as ServerMessage;
          if (m.type === 'live' && m.table.stacks.length) resolve(performance.now() - t0);
        }),
      );
      ws.send(JSON.stringify({ op: 'live-start', pid: target.pid, rate: 100 }));
      firsts.push(await first);
      ws.close();
      await sleep(300);
    }

    // 1 and 3: a live profile and record, side by side on the same target
    const ws = await connect(url);
    const sizes: Array<[number, number, number]> = [];
    let last: Extract<ServerMessage, { type: 'live' }> | undefined;
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as ServerMessage;
      if (m.type === 'live') {
        last = m;
        sizes.push([m.elapsed, String(d).length, m.table.stacks.length]);
      }
    });
    ws.send(JSON.stringify({ op: 'live-start', pid: target.pid, rate: 100 }));
    const rec = spawn(
      process.execPath,
      [
        CLI,
        'record',
        '-p',
        String(target.pid),
        '-r',
        '100',
        '-d',
        String(WARMUP_S + WINDOW_S + 5),
        '-f',
        'collapsed',
        '-o',
        join(work, 'rec.txt'),
      ],
      { stdio: 'ignore', env: env() },
    );
    children.push(rec);
    await sleep(WARMUP_S * 1000);
    const a = { web: cpuSeconds(web.pid!), rec: cpuSeconds(rec.pid!), t: performance.now(), ticks: last?.ticks ?? 0 };
    await sleep(WINDOW_S * 1000);
    const b = { web: cpuSeconds(web.pid!), rec: cpuSeconds(rec.pid!), t: performance.now(), ticks: last?.ticks ?? 0 };
    const wall = (b.t - a.t) / 1000;
    ws.close();
    await new Promise((r) => rec.once('exit', r));

    console.log(`### 1. Profiler CPU at 100 Hz, side by side on the same target (${WINDOW_S} s window after ${WARMUP_S} s of warm-up)\n`);
    console.log('| profiler | CPU (% of one core) | samples/s achieved |');
    console.log('|---|---|---|');
    console.log(`| \`spyglass record -r 100\` | ${((100 * (b.rec - a.rec)) / wall).toFixed(1)} | ~100 |`);
    console.log(
      `| \`spyglass web\`, live profile at 100 Hz (aggregate sent every second) | ${((100 * (b.web - a.web)) / wall).toFixed(1)} | ${((b.ticks - a.ticks) / wall).toFixed(0)} |`,
    );
    console.log(`\n### 2. Request to first aggregate with stacks (5 fresh connections)\n`);
    console.log(`median ${median(firsts).toFixed(0)} ms, all: ${firsts.map((x) => x.toFixed(0)).join(', ')} ms`);
    console.log(`\n### 3. Size of the aggregate message as the live profile runs\n`);
    console.log('| elapsed (s) | message bytes | unique stacks |');
    console.log('|---|---|---|');
    for (const [t, bytes, stacks] of sizes.filter((_, i) => i % 5 === 0 || i === sizes.length - 1))
      console.log(`| ${t.toFixed(0)} | ${bytes} | ${stacks} |`);
    await clickToFlame(url, target.pid);
    if (PAGE_MINUTES > 0) await pageMemory(target.pid);
    web.kill('SIGINT');
  } finally {
    await target.stop();
  }
}

/** The click on "Start live profile" to the first frame of the flame graph in the page's DOM, on fresh pages. */
async function clickToFlame(url: URL, pid: number): Promise<void> {
  const browser = await launchChromium(['--js-flags=--expose-gc']);
  const times: number[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${url.href}#/process/${pid}`);
      await page.waitForSelector('.live-start');
      // measured inside the page: the click's handler to the first frame drawn
      const ms = await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            const t0 = performance.now();
            const seen = new MutationObserver(() => {
              if (document.querySelector('.profile-view g.frame')) {
                seen.disconnect();
                resolve(performance.now() - t0);
              }
            });
            seen.observe(document.body, { childList: true, subtree: true });
            (document.querySelector('.live-start') as HTMLButtonElement).click();
          }),
      );
      times.push(ms);
      await page.close();
      await sleep(300);
    }
  } finally {
    await browser.close();
  }
  console.log(`\n### 5. Click to the first flame graph on the page (headless Chromium, 5 fresh pages)\n`);
  console.log(`median ${median(times).toFixed(0)} ms, all: ${times.map((x) => x.toFixed(0)).join(', ')} ms`);
}

/** The server's heap in MiB after a full collection (node --expose-gc; '?' without it). */
function serverHeapMiB(): string {
  const gc = (globalThis as unknown as { gc?: () => void }).gc;
  if (!gc) return '?';
  gc();
  const m = process.memoryUsage();
  return ((m.heapUsed + m.arrayBuffers) / 2 ** 20).toFixed(1);
}

/** Opens the process page on a server in this process, starts a live profile and samples the page's heap and the server's every minute. */
async function pageMemory(pid: number): Promise<void> {
  const { startWebServer } = await import('../src/web/server.js');
  const server = await startWebServer({ host: '127.0.0.1', port: 0, token: 'bench-token', maxUploadBytes: 1 << 20, profileDir: work });
  const url = new URL(`http://127.0.0.1:${server.port}/?token=bench-token`);
  const browser = await launchChromium(['--js-flags=--expose-gc']);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const cdp = await page.context().newCDPSession(page);
    await page.goto(`${url.href}#/process/${pid}`);
    await page.click('.live-start');
    await page.waitForSelector('.profile-view g.frame');
    console.log(`\n### 4. The page during a ${PAGE_MINUTES}-minute live profile at 100 Hz (headless Chromium)\n`);
    console.log('| minute | samples | page JS heap used (MiB, after GC) | DOM nodes | server heap used (MiB, after GC) |');
    console.log('|---|---|---|---|---|');
    for (let minute = 0; minute <= PAGE_MINUTES; minute++) {
      if (minute) await sleep(60000);
      await page.evaluate(() => (globalThis as unknown as { gc?: () => void }).gc?.());
      const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
      const nodes = await page.evaluate(() => document.getElementsByTagName('*').length);
      const samples = (await page.textContent('.live-status'))?.match(/^(\d+) samples/)?.[1] ?? '?';
      console.log(`| ${minute} | ${samples} | ${(heap.usedSize / 2 ** 20).toFixed(1)} | ${nodes} | ${serverHeapMiB()} |`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
