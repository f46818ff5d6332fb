// py-spy's own spellings of the shared commands work as they do there, so that its users'
// command lines and scripts run unchanged: `dump --pid PID` (-p) and -j, `record -f raw`
// (py-spy's name for collapsed stacks) with -i -t -F -s -g -n, --nonblocking (the
// default, accepted), `top -i -g`, a pid in hex (0x...) and --full-filenames (whole
// paths in a recording; dump's default). Wrong combinations are usage errors (exit 2).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget, TARGETS_DIR } from '../helpers/targets.js';

const py = discoverPythons().find((p) => p.minor === '3.12') ?? discoverPythons()[0];

test(`${py.label}: py-spy's options on dump, record and top`, async (t) => {
  const target = await startTarget(py, 'profile_split.py');
  t.after(() => target.stop());
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-pyspy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pid = String(target.pid);

  const dump = await runCli(['dump', '--pid', pid, '-j']);
  assert.equal(dump.code, 0, dump.stderr);
  assert.equal(JSON.parse(dump.stdout).pid, target.pid);
  const short = await runCli(['dump', '-p', pid]);
  assert.match(short.stdout, /^ {4}(heavy|light|burn) \(.*profile_split\.py:\d+\)$/m);
  // py-spy takes a pid "in decimal or hex"
  const hex = await runCli(['dump', '-p', `0x${target.pid.toString(16)}`, '--full-filenames']);
  assert.equal(hex.code, 0, hex.stderr);
  assert.match(hex.stdout, new RegExp(`^Process ${target.pid}:`, 'm'));
  assert.match(hex.stdout, /^ {4}(heavy|light|burn) \(\/.*\/profile_split\.py:\d+\)$/m);
  const notPid = await runCli(['dump', '0x']);
  assert.equal(notPid.code, 2);

  const raw = join(dir, 'raw.txt');
  const rec = await runCli(['record', '--pid', pid, '-f', 'raw', '-o', raw, '-d', '1', '-i', '-t', '-F', '-s', '--nonblocking']);
  assert.equal(rec.code, 0, rec.stderr);
  const lines = readFileSync(raw, 'utf8').trim().split('\n');
  assert.ok(
    lines.every((l) => /^process \d+: ".*";thread \d+ "\w+";.* \d+$/.test(l)),
    lines.slice(0, 3).join('\n'),
  );
  assert.ok(
    lines.some((l) => l.includes('"MainThread"') && l.includes('burn (')),
    'the busy thread, by function',
  );
  assert.ok(
    lines.some((l) => l.includes('sleeper (')),
    '-i keeps the idle thread',
  );

  // the short form by default ("profile_split.py"), whole paths with --full-filenames
  const full = join(dir, 'full.txt');
  const recFull = await runCli(['record', '-p', pid, '-f', 'raw', '-o', full, '-d', '0.5', '--full-filenames']);
  assert.equal(recFull.code, 0, recFull.stderr);
  assert.match(readFileSync(full, 'utf8'), /burn \(\/\S*\/profile_split\.py:\d+\)/);
  assert.match(readFileSync(raw, 'utf8'), /burn \(profile_split\.py:\d+\)/);

  const gil = join(dir, 'gil.txt');
  const recGil = await runCli(['record', '-p', pid, '-f', 'raw', '-o', gil, '-d', '0.5', '-g']);
  assert.equal(recGil.code, 0, recGil.stderr);
  assert.ok(!readFileSync(gil, 'utf8').includes('sleeper ('), '-g: only the thread holding the GIL');

  const both = await runCli(['record', '-p', pid, '-d', '1', '--blocking', '--nonblocking']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /either --blocking or --nonblocking/);
  const none = await runCli(['dump']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^spyglass: no process given$/m);
  const two = await runCli(['dump', pid, '--pid', '1']);
  assert.equal(two.code, 2);
  assert.match(two.stderr, /two different pids given/);
  const top = await runCli(['top', '--help']);
  assert.match(top.stdout, /-i, --idle/);
  assert.match(top.stdout, /-g, --gil/);
  assert.match(top.stdout, /-s, --subprocesses/);
  assert.match(top.stdout, /--delay <seconds>/);

  // py-spy takes the format in any case
  const scope = join(dir, 'scope.json');
  const recScope = await runCli(['record', '-p', pid, '-f', 'SpeedScope', '-o', scope, '-d', '0.5']);
  assert.equal(recScope.code, 0, recScope.stderr);
  assert.equal(JSON.parse(readFileSync(scope, 'utf8')).$schema, 'https://www.speedscope.app/file-format-schema.json');
});

test(`${py.label}: record --capture -d unlimited --hideprogress -- python app.py (py-spy's spellings)`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-pyspy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'raw.txt');
  const program = [py.path, join(TARGETS_DIR, 'profile_split.py'), '1', '3'];
  // -d unlimited (py-spy's default) records until the program ends by itself
  const rec = await runCli(['record', '-f', 'raw', '-o', out, '-d', 'unlimited', '--capture', '--hideprogress', '--', ...program]);
  assert.equal(rec.code, 3, rec.stderr);
  // captured: not on stdout, and shown after the summary as the program failed
  assert.doesNotMatch(rec.stdout, /READY/);
  assert.match(rec.stderr, /the program exited with status 3; what it printed:\nREADY/);
  assert.match(readFileSync(out, 'utf8'), /heavy \(profile_split\.py:\d+\)/);
  // a program that succeeds: nothing of its output is shown
  const ok = await runCli([
    'record',
    '-f',
    'raw',
    '-o',
    out,
    '--capture',
    '--',
    py.path,
    join(TARGETS_DIR, 'profile_split.py'),
    '0.5',
    '0',
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.doesNotMatch(ok.stdout + ok.stderr, /READY/);
});
