// The shell's `perf` in one-shot mode (`spyglass PID --cmd "perf ..."`) on every
// interpreter: the flame graph it writes holds the known 3:1 split of profile_split.py;
// the default file is ./flamegraph.svg and never overwrites an earlier one; another pid,
// an HTML file under ~, --timeout ending a perf without -d, --json, and bad usage.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_MAIN } from '../helpers/cli.js';
import { flameDataOf, flameSamplesIn, startProfileTarget } from '../helpers/profiles.js';
import { discoverPythons } from '../helpers/pythons.js';

const pythons = discoverPythons();
const dir = mkdtempSync(join(tmpdir(), 'spyglass-perf-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `spyglass PID --cmd LINE [extra]` with a generous attach timeout (the machine may be loaded). */
function oneShot(pid: number, line: string, opts: { extra?: string[]; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...opts.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const args = [CLI_MAIN, String(pid), '--attach-timeout', '60', '--cmd', line, ...(opts.extra ?? [])];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env, cwd: opts.cwd ?? dir });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`spyglass ${pid} --cmd "${line}" timed out; stdout=${stdout} stderr=${stderr}`));
    }, 180000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// one interpreter at a time: see record.test.ts on measuring a split on a starved machine
describe('perf in one-shot mode: the 3:1 split in the flame graph, on every interpreter', { concurrency: 1 }, () => {
  for (const py of pythons) {
    test(py.label, async (t) => {
      const target = await startProfileTarget(py, 'profile_split.py');
      t.after(() => target.stop());
      const svg = join(dir, `${py.label}.svg`);
      // 3 s at 250 Hz: about 750 samples when the machine is idle, far fewer when the
      // sampler is starved: a loose bound here, the ±5 point accuracy is record.test.ts's
      const run = await oneShot(target.pid, `perf -d 3 -r 250 -f ${svg}`);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`wrote flamegraph to ${svg}: (\\d+) samples \\((\\d+) thread samples\\)`));
      const [, ticks, threadSamples] = /: (\d+) samples \((\d+) thread samples\)/.exec(run.stdout)!.map(Number);
      const text = readFileSync(svg, 'utf8');
      assert.match(text, /^<\?xml[\s\S]*<svg /);
      const data = flameDataOf(text);
      assert.match(data.title, /profile_split\.py/);
      assert.match(data.subtitle, new RegExp(`^${ticks} samples · ${threadSamples} thread samples · 250 Hz · 3\\.\\d s`));
      assert.equal(data.tree[1], threadSamples);
      const heavy = flameSamplesIn(data, 'heavy');
      const light = flameSamplesIn(data, 'light');
      assert.ok(heavy + light >= 100, `samples: ${heavy + light}; ${run.stdout}`);
      const pct = (100 * heavy) / (heavy + light);
      assert.ok(Math.abs(pct - 75) <= 15, `heavy ${heavy}, light ${light}: ${pct.toFixed(1)}%`);
      assert.ok(!data.frames.some(([name]) => name === 'sleeper'), 'idle threads are left out');
      assert.ok(target.alive());
    });
  }
});

describe('perf: default file, another pid, ~, --timeout, --json, usage', { concurrency: true }, () => {
  const py = pythons.find((p) => p.minor === '3.12') ?? pythons[0];

  test('without -f: ./flamegraph.svg, then flamegraph-2.svg; --json; --timeout ends a perf without -d', async (t) => {
    const target = await startProfileTarget(py, 'profile_split.py');
    t.after(() => target.stop());
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(cwd, 'flamegraph.svg'), 'an earlier flame graph');
    const started = Date.now();
    const run = await oneShot(target.pid, 'perf', { cwd, extra: ['--timeout', '2', '--json'] });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(Date.now() - started < 120000);
    const records = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const rec = records.find((r) => r.event === 'perf')!;
    assert.ok(rec, run.stdout);
    assert.equal(rec.path, join(cwd, 'flamegraph-2.svg'));
    assert.equal(rec.pid, target.pid);
    assert.ok((rec.samples as number) > 0 && (rec.thread_samples as number) > 0, run.stdout);
    // --timeout counts from the command's start; sampling starts once the reader has found
    // the interpreter in the target's memory (a second or more on a loaded machine)
    assert.ok((rec.seconds as number) > 0 && (rec.seconds as number) <= 2.5, `ended by --timeout 2: ${rec.seconds}`);
    assert.equal(readFileSync(join(cwd, 'flamegraph.svg'), 'utf8'), 'an earlier flame graph');
    assert.equal(flameDataOf(readFileSync(join(cwd, 'flamegraph-2.svg'), 'utf8')).tree[1], rec.thread_samples);
  });

  test('perf PID samples another process; a name not ending in .svg is an HTML page; ~ is the home directory', async (t) => {
    const [attached, other] = await Promise.all([startProfileTarget(py, 'profile_split.py'), startProfileTarget(py, 'profile_gil.py')]);
    t.after(() => Promise.all([attached.stop(), other.stop()]));
    const home = mkdtempSync(join(dir, 'home-'));
    const html = join(home, 'other.html');
    const run = await oneShot(attached.pid, `perf ${other.pid} -d 1 -f ~/other.html`, { env: { HOME: home } });
    assert.equal(run.code, 0, run.stderr);
    const page = readFileSync(html, 'utf8');
    assert.match(page, /^<!doctype html>/);
    const names = flameDataOf(page).frames.map(([name]) => name);
    // (its other thread mostly waits for the GIL: idle, left out)
    assert.ok(names.includes('hold_gil'), names.join(', '));
    assert.ok(!names.includes('heavy'), 'not the attached process');
  });

  test('bad usage is one line with exit code 2', async (t) => {
    const target = await startProfileTarget(py, 'profile_split.py');
    t.after(() => target.stop());
    for (const line of ['perf abc', 'perf -r 0', 'perf -x']) {
      const run = await oneShot(target.pid, line);
      assert.equal(run.code, 2, `${line}: ${run.stderr}`);
      assert.match(run.stderr, /perf/);
      assert.doesNotMatch(run.stderr, /\n\s+at /);
    }
  });
});
