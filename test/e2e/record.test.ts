// `spyglass record` against real Python processes, checked by the numbers in the
// profiles it writes: the known 3:1 split on every interpreter, idle threads left out
// unless --idle, --gil keeping only the GIL holder, each format's content, launch mode,
// Ctrl-C, --subprocesses and --blocking.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Profile as PprofProfile } from 'pprof-format';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { discoverPythons, type Interpreter } from '../helpers/pythons.js';
import { startTarget, TARGETS_DIR } from '../helpers/targets.js';

const MAIN = join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');
const pythons = discoverPythons();
const dir = mkdtempSync(join(tmpdir(), 'spyglass-record-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let seq = 0;
const outFile = (name: string) => join(dir, `${++seq}-${name}`);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the spyglass CLI; onStart gets the child (to send it signals). */
function spyglass(args: string[], onStart?: (pid: number) => void, timeoutMs = 30000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const p = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`spyglass ${args.join(' ')} timed out; stderr=${stderr}`));
    }, timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    onStart?.(p.pid!);
  });
}

/** collapsed output → [frames, count] */
function parseCollapsed(text: string): Array<[string[], number]> {
  return text
    .trimEnd()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const i = l.lastIndexOf(' ');
      return [l.slice(0, i).split(';'), Number(l.slice(i + 1))];
    });
}

/** samples whose stack contains a frame of `fn` */
function samplesIn(stacks: Array<[string[], number]>, fn: string): number {
  return stacks.filter(([frames]) => frames.some((f) => f.startsWith(`${fn} (`))).reduce((a, [, n]) => a + n, 0);
}

async function recordCollapsed(pid: number, extra: string[]): Promise<{ stacks: Array<[string[], number]>; run: Run }> {
  const out = outFile('profile.txt');
  const run = await spyglass(['record', '-p', String(pid), '-f', 'collapsed', '-o', out, ...extra]);
  assert.equal(run.code, 0, run.stderr);
  return { stacks: parseCollapsed(readFileSync(out, 'utf8')), run };
}

describe('record: known 3:1 split, idle threads, on every interpreter', { concurrency: true }, () => {
  for (const py of pythons) {
    test(py.label, async (t) => {
      const target = await startTarget(py, 'profile_split.py');
      t.after(() => target.stop());
      // two recordings at once: the split at a high rate (enough samples for ±5 points),
      // and --idle --threads to see the sleeping thread
      const [split, idle] = await Promise.all([
        recordCollapsed(target.pid, ['-r', '500', '-d', '3']),
        recordCollapsed(target.pid, ['-r', '100', '-d', '1.5', '--idle', '--threads']),
      ]);
      const heavy = samplesIn(split.stacks, 'heavy');
      const light = samplesIn(split.stacks, 'light');
      assert.ok(heavy + light >= 300, `enough samples: ${heavy + light}; ${split.run.stderr}`);
      const share = (100 * heavy) / (heavy + light);
      assert.ok(Math.abs(share - 75) <= 5, `heavy has ${share.toFixed(1)}% of heavy+light (want 75 ± 5): heavy ${heavy}, light ${light}`);
      assert.ok(split.stacks.every(([frames]) => !frames.some((f) => f.startsWith('sleeper ('))), 'the sleeping thread is left out without --idle');
      assert.ok(split.stacks.every(([frames]) => frames[0].startsWith('<module> (profile_split.py:')), 'every stack starts at the module');
      assert.match(split.run.stderr, /wrote collapsed to .*: \d+ samples/);

      const sleeperStacks = idle.stacks.filter(([frames]) => frames[0].startsWith('thread ') && frames[0].endsWith('"sleeper"'));
      assert.ok(sleeperStacks.length > 0, `with --idle the sleeper appears under its thread root: ${idle.stacks.map(([f]) => f[0]).join(', ')}`);
      assert.ok(sleeperStacks.every(([frames]) => frames.some((f) => f.startsWith('sleeper (profile_split.py:'))));
      assert.ok(idle.stacks.some(([frames]) => /^thread \d+ "MainThread"$/.test(frames[0]) && frames.some((f) => f.startsWith('heavy ('))));
    });
  }
});

describe('record: --gil keeps only the thread holding the GIL', { concurrency: true }, () => {
  for (const py of pythons) {
    test(py.label, async (t) => {
      const target = await startTarget(py, 'profile_gil.py');
      t.after(() => target.stop());
      const [gil, all] = await Promise.all([
        recordCollapsed(target.pid, ['-d', '1.5', '--gil', '--idle']),
        recordCollapsed(target.pid, ['-d', '1.5', '--idle']),
      ]);
      const total = (r: typeof gil) => r.stacks.reduce((a, [, n]) => a + n, 0);
      assert.ok(total(gil) > 50, `GIL samples: ${total(gil)}`);
      // the waiter gets the GIL only in the short gaps between two sum() calls
      const holderShare = samplesIn(gil.stacks, 'hold_gil') / total(gil);
      assert.ok(holderShare >= 0.9, `--gil: ${(100 * holderShare).toFixed(1)}% in hold_gil: ${JSON.stringify(gil.stacks)}`);
      assert.ok(gil.stacks.every(([frames]) => !frames.some((f) => f.startsWith('<module> ('))), 'the main thread, waiting in join(), never holds the GIL');
      // without --gil the threads waiting for it are there too, as much as the holder
      const waiterShare = samplesIn(all.stacks, 'want_gil') / total(all);
      assert.ok(waiterShare >= 0.25, `without --gil: ${(100 * waiterShare).toFixed(1)}% in want_gil: ${JSON.stringify(all.stacks)}`);
      assert.ok(all.stacks.some(([frames]) => frames[0].startsWith('<module> (')), 'with --idle the main thread appears');
    });
  }
});

describe('record: every format from one workload', { concurrency: true }, () => {
  const py: Interpreter | undefined = pythons.find((p) => p.minor === '3.12') ?? pythons[0];
  const withTarget = async (t: { after(fn: () => unknown): void }, format: string, file: string) => {
    const target = await startTarget(py!, 'profile_split.py');
    t.after(() => target.stop());
    const out = outFile(file);
    const run = await spyglass(['record', '-p', String(target.pid), '-f', format, '-o', out, '-r', '200', '-d', '1.5']);
    assert.equal(run.code, 0, run.stderr);
    const ticks = Number(/: (\d+) samples/.exec(run.stderr)![1]);
    return { out, ticks };
  };

  test('flamegraph HTML and SVG', async (t) => {
    const { out } = await withTarget(t, 'flamegraph', 'fg.html');
    const html = readFileSync(out, 'utf8');
    assert.match(html, /^<!doctype html>/);
    const data = JSON.parse(/\}\)\((\{.*\}), 'html'\);/.exec(html)![1]) as { frames: Array<[string, string, string]>; title: string };
    assert.ok(data.frames.some(([name, loc]) => name === 'heavy' && /^profile_split\.py:\d+$/.test(loc)));
    assert.match(data.title, /profile_split\.py/);
    const svg = outFile('fg.svg');
    const second = await startTarget(py!, 'profile_split.py');
    t.after(() => second.stop());
    const run = await spyglass(['record', '-p', String(second.pid), '-o', svg, '-d', '1']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(readFileSync(svg, 'utf8'), /^<\?xml[^]*<svg [^]*"heavy"/);
  });

  test('speedscope', async (t) => {
    const { out, ticks } = await withTarget(t, 'speedscope', 'p.speedscope.json');
    const file = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(file.$schema, 'https://www.speedscope.app/file-format-schema.json');
    const main = file.profiles[file.activeProfileIndex];
    assert.match(main.name, /^Thread \d+ "MainThread"$/);
    assert.equal(main.samples.length, ticks, 'one sample per instant for the busy main thread');
    assert.equal(main.weights.length, ticks);
    const names = new Set(main.samples.flatMap((s: number[]) => s.map((i) => file.shared.frames[i].name)));
    for (const n of ['<module>', 'main', 'heavy', 'light', 'spin']) assert.ok(names.has(n), n);
  });

  test('pprof', async (t) => {
    const { out, ticks } = await withTarget(t, 'pprof', 'p.pb.gz');
    const prof = PprofProfile.decode(gunzipSync(readFileSync(out)));
    const total = prof.sample.reduce((a, s) => a + Number(s.value[0]), 0);
    assert.equal(total, ticks);
    const names = new Set(prof.function.map((f) => prof.stringTable.strings[Number(f.name)]));
    for (const n of ['heavy', 'light', 'spin']) assert.ok(names.has(n), n);
  });

  test('chrometrace', async (t) => {
    const { out } = await withTarget(t, 'chrometrace', 'trace.json');
    const events = JSON.parse(readFileSync(out, 'utf8')) as Array<{ ph: string; name: string; tid: number; ts: number; args?: { filename?: string } }>;
    const begins = events.filter((e) => e.ph === 'B');
    assert.ok(begins.some((e) => e.name === 'heavy' && e.args?.filename?.endsWith('profile_split.py')));
    assert.equal(begins.length, events.filter((e) => e.ph === 'E').length, 'every B has its E');
    assert.ok(events.some((e) => e.ph === 'M' && e.name === 'thread_name'));
  });
});

describe('record: launch mode, Ctrl-C, subprocesses, blocking', { concurrency: true }, () => {
  const py = pythons.find((p) => p.minor === '3.11' && p.build === 'shared') ?? pythons[0];

  test('launch mode: sampled from the start, its exit ends the recording, exit code and stdout forwarded', async () => {
    const out = outFile('launch.txt');
    const started = Date.now();
    const run = await spyglass(['record', '-f', 'collapsed', '-o', out, '-r', '200', '--', py.path, join(TARGETS_DIR, 'profile_split.py'), '1.5', '3']);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stdout, /^READY$/m);
    assert.ok(Date.now() - started < 10000);
    const stacks = parseCollapsed(readFileSync(out, 'utf8'));
    assert.ok(samplesIn(stacks, 'heavy') > 100, JSON.stringify(stacks));
    assert.equal(Number(/: (\d+) errors/.exec(run.stderr)?.[1] ?? -1), 0, run.stderr);
  });

  test('Ctrl-C ends the recording and writes the output', async (t) => {
    const target = await startTarget(py, 'profile_split.py');
    t.after(() => target.stop());
    const out = outFile('sigint.txt');
    const run = await spyglass(['record', '-p', String(target.pid), '-f', 'collapsed', '-o', out], (pid) => setTimeout(() => process.kill(pid, 'SIGINT'), 1500));
    assert.equal(run.code, 0, run.stderr);
    assert.ok(samplesIn(parseCollapsed(readFileSync(out, 'utf8')), 'heavy') > 50);
    assert.ok(target.alive(), 'the target keeps running');
  });

  test('--subprocesses samples the multiprocessing workers under a root frame per process', async (t) => {
    const target = await startTarget(py, 'profile_children.py');
    t.after(() => target.stop());
    const workers = (await target.waitFor(/^READY/)).split(' ').slice(1).map(Number);
    const { stacks, run } = await recordCollapsed(target.pid, ['-d', '2', '--subprocesses']);
    for (const w of workers) {
      const mine = stacks.filter(([frames]) => frames[0].startsWith(`process ${w}:`));
      assert.ok(samplesIn(mine, 'child_work') > 20, `worker ${w}: ${JSON.stringify(stacks.map(([f, n]) => [f[0], f[f.length - 1], n]))}`);
    }
    assert.match(run.stderr, /3 processes/);
  });

  test('--blocking pauses the Python threads and gives the same split', async (t) => {
    const target = await startTarget(py, 'profile_split.py');
    t.after(() => target.stop());
    const { stacks, run } = await recordCollapsed(target.pid, ['-d', '2', '-r', '200', '--blocking']);
    const heavy = samplesIn(stacks, 'heavy');
    const light = samplesIn(stacks, 'light');
    assert.ok(heavy + light > 150, run.stderr);
    assert.ok(Math.abs((100 * heavy) / (heavy + light) - 75) <= 8, `heavy ${heavy} light ${light}`);
    assert.ok(stacks.every(([frames]) => !frames.some((f) => f.startsWith('sleeper ('))), 'paused threads still count as idle when they were');
    assert.ok(target.alive());
  });

  test('a pid that is not Python is a one-line error with exit code 1', async () => {
    const run = await spyglass(['record', '-p', String(process.pid), '-d', '1']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^spyglass: process \d+ .*is not a CPython process/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });
});
