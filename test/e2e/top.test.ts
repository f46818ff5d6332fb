// `spyglass top` and `spyglass record` on a real terminal (tmux): top shows the known
// hot functions of profile_split.py (burn innermost, heavy:light about 3:1) with GIL,
// active and thread figures, the sort keys reorder the table, q quits and gives the
// terminal back; record shows its live status line on a terminal and Ctrl-C typed
// there writes the profile.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_MAIN, runCli } from '../helpers/cli.js';
import { parseCollapsed, READY_TIMEOUT_MS, samplesIn, startProfileTarget, totalSamples } from '../helpers/profiles.js';
import { discoverPythons } from '../helpers/pythons.js';
import { TARGETS_DIR } from '../helpers/targets.js';
import { startTmux } from '../helpers/tmux.js';

const pythons = discoverPythons();
const dir = mkdtempSync(join(tmpdir(), 'spyglass-top-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
/** the terminal UI does not depend on the version: the oldest, the static build and the newest */
const versions = [...new Set([pythons[0], pythons.find((p) => p.build === 'static'), pythons.at(-1)])].filter((p) => p !== undefined);

interface Row {
  ownPct: number;
  totalPct: number;
  ownTime: number;
  totalTime: number;
  name: string;
}

/** The function rows of top's table, in screen order. */
function rowsOf(screen: string): Row[] {
  const rows: Row[] = [];
  for (const m of screen.matchAll(/^\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)s\s+([\d.]+)s {2}(\S+) \(/gm)) {
    rows.push({ ownPct: Number(m[1]), totalPct: Number(m[2]), ownTime: Number(m[3]), totalTime: Number(m[4]), name: m[5] });
  }
  return rows;
}

const row = (rows: Row[], name: string) => rows.find((r) => r.name === name);

const isSortedBy = (rows: Row[], key: keyof Omit<Row, 'name'>) => rows.every((r, i) => i === 0 || rows[i - 1][key] >= r[key]);

describe('top on a terminal', { concurrency: true }, () => {
  for (const py of versions) {
    test(py.label, async (t) => {
      const target = await startProfileTarget(py, 'profile_split.py');
      t.after(() => target.stop());
      // py-spy's spelling on one interpreter, the positional pid on the others
      const pidArgs = py === versions[0] ? ['--pid', String(target.pid)] : [String(target.pid)];
      const term = await startTmux([process.execPath, CLI_MAIN, 'top', ...pidArgs], { width: 140, height: 30 });
      t.after(() => term.kill());
      // enough run time for the cumulated columns to hold the 3:1 split (about 300 samples)
      let screen = await term.waitFor((s) => (row(rowsOf(s), 'main')?.totalTime ?? 0) >= 3, { timeoutMs: READY_TIMEOUT_MS + 30000 });
      assert.match(screen, new RegExp(`spyglass top · pid ${target.pid} · .*profile_split\\.py`));
      assert.match(screen, /Threads: 2 {2}GIL: [\d.]+% {2}Active: [\d.]+% {2}Rate: 100 Hz/);
      assert.match(screen, /\[%Own\]/);
      let rows = rowsOf(screen);
      assert.equal(rows[0].name, 'burn', `sorted by own time, burn (the innermost frame) first:\n${screen}`);
      assert.ok(isSortedBy(rows, 'ownPct'), screen);
      const heavy = row(rows, 'heavy')!;
      const light = row(rows, 'light')!;
      const main = row(rows, 'main')!;
      assert.ok(heavy && light && main, screen);
      assert.ok(heavy.ownTime <= 0.1 * heavy.totalTime, 'heavy only calls burn');
      const share = heavy.totalTime / (heavy.totalTime + light.totalTime);
      assert.ok(Math.abs(share - 0.75) <= 0.1, `heavy ${heavy.totalTime}s, light ${light.totalTime}s:\n${screen}`);
      assert.ok(row(rows, 'sleeper') === undefined, 'the sleeping thread is idle');

      // 2: by %Total; <module> and main are in every stack, <module> sorts first on a tie
      await term.send('2');
      screen = await term.waitFor(/\[%Total\]/);
      rows = rowsOf(screen);
      assert.ok(isSortedBy(rows, 'totalPct'), screen);
      assert.equal(rows[0].name, '<module>', screen);
      // 3: by own time over the whole run
      await term.send('3');
      screen = await term.waitFor(/\[OwnTime\]/);
      rows = rowsOf(screen);
      assert.ok(isSortedBy(rows, 'ownTime'), screen);
      assert.equal(rows[0].name, 'burn', screen);
      await term.send('4');
      screen = await term.waitFor(/\[TotalTime\]/);
      assert.ok(isSortedBy(rowsOf(screen), 'totalTime'), screen);

      await term.send('q');
      assert.equal(await term.waitForExit(30000), 0);
      // the alternate screen is gone: what was on the terminal before top is back
      screen = await term.screen();
      assert.doesNotMatch(screen, /spyglass top ·|%Own/, screen);
      assert.ok(target.alive());
    });
  }
});

test('top -- python app.py: the launched program is watched, its output kept and shown when it fails, its status returned', async (t) => {
  const py = versions.at(-1)!;
  const program = [py.path, join(TARGETS_DIR, 'profile_split.py'), '4', '3'];
  const term = await startTmux([process.execPath, CLI_MAIN, 'top', '--delay', '0.5', '--', ...program], { width: 160, height: 30 });
  t.after(() => term.kill());
  const screen = await term.waitFor((s) => (row(rowsOf(s), 'heavy')?.totalTime ?? 0) >= 0.5, { timeoutMs: READY_TIMEOUT_MS });
  assert.match(screen, /spyglass top · pid \d+ · .*profile_split\.py 4 3/);
  // the program's READY went to a file, not over the table
  assert.doesNotMatch(screen, /^READY/m);
  assert.equal(await term.waitForExit(30000), 3);
  const after = await term.screen();
  assert.match(after, /spyglass: .*profile_split\.py 4 3 exited with status 3\nREADY/);
});

test('top -- python app.py, quit with q: the program is stopped, exit 0; --subprocesses counts the workers', async (t) => {
  const py = versions.at(-1)!;
  const term = await startTmux(
    [process.execPath, CLI_MAIN, 'top', '-s', '--delay', '0.5', '--', py.path, join(TARGETS_DIR, 'profile_children.py')],
    { width: 160, height: 30 },
  );
  t.after(() => term.kill());
  // the parent only waits: what runs is the two workers' child_work
  const screen = await term.waitFor((s) => (row(rowsOf(s), 'child_work')?.totalTime ?? 0) >= 1, { timeoutMs: READY_TIMEOUT_MS });
  assert.ok(/Threads: [2-9]/.test(screen), screen);
  const pid = Number(/spyglass top · pid (\d+)/.exec(screen)![1]);
  await term.send('q');
  assert.equal(await term.waitForExit(30000), 0);
  for (const until = Date.now() + 10000; Date.now() < until && existsSync(`/proc/${pid}`); ) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!existsSync(`/proc/${pid}`), 'the launched program was stopped when top quit');
});

test('record on a terminal: live status line, Ctrl-C writes the profile, exit 130', async (t) => {
  const py = versions.at(-1)!;
  const target = await startProfileTarget(py, 'profile_split.py');
  t.after(() => target.stop());
  const out = join(dir, 'ctrl-c.txt');
  const term = await startTmux([process.execPath, CLI_MAIN, 'record', '-p', String(target.pid), '-f', 'collapsed', '-o', out]);
  t.after(() => term.kill());
  // a sample torn by the target changing under the read counts as an error: rare, not none
  const status = /recording: [\d.]+s, (\d+) samples, (\d+) thread samples, (\d+) errors, \d+\/100 Hz \(Ctrl-C to stop\)/;
  const screen = await term.waitFor((s) => Number(status.exec(s)?.[1] ?? 0) >= 50, { timeoutMs: READY_TIMEOUT_MS + 30000 });
  const [, samples, , errors] = status.exec(screen)!;
  assert.ok(Number(errors) * 100 <= Number(samples), screen);
  await term.send('C-c');
  assert.equal(await term.waitForExit(30000), 130);
  const after = await term.screen();
  assert.match(after, /wrote collapsed to .*: (\d+) samples/);
  assert.doesNotMatch(after, /recording:/, 'the status line is cleared before the summary');
  const stacks = parseCollapsed(readFileSync(out, 'utf8'));
  assert.equal(totalSamples(stacks), Number(/\((\d+) thread samples\)/.exec(after)![1]));
  assert.ok(samplesIn(stacks, 'heavy') >= 20, after);
  assert.ok(target.alive(), 'Ctrl-C reached spyglass, not the target');
});

test('top without a pid, or with two different ones: one line, exit 2', async () => {
  for (const args of [['top'], ['top', '1', '--pid', '2']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^spyglass: (no process given|two different pids given)\n/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
