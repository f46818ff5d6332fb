// `spyglass ps` lists Python processes (exact version, build, user, command) and leaves
// out everything else; `spyglass demo` starts the sample service, shows its threads, and
// stops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';
import { runCli } from '../helpers/cli.js';

test('ps lists every interpreter\'s process with version and build, and no non-Python process', async (t) => {
  const targets = await Promise.all(discoverPythons().map((py) => startTarget(py, 'locate_idle.py', ['ps-marker'])));
  t.after(() => Promise.all(targets.map((x) => x.stop())));
  const sleeper = spawn('sleep', ['100'], { stdio: 'ignore' });
  t.after(() => sleeper.kill('SIGKILL'));

  const r = await runCli(['ps', '--json'], { timeoutMs: 60000 });
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Array<{ pid: number; version: string; build: string; user: string; command: string }>;
  const pys = discoverPythons();
  targets.forEach((target, i) => {
    const row = rows.find((x) => x.pid === target.pid);
    assert.ok(row, `pid ${target.pid} (${pys[i].label}) listed`);
    assert.equal(row.version, pys[i].version);
    assert.equal(row.build, pys[i].build);
    assert.equal(row.user, 'root');
    assert.match(row.command, /locate_idle\.py ps-marker$/);
  });
  assert.ok(!rows.some((x) => x.pid === sleeper.pid), 'sleep is not listed');
  assert.ok(!rows.some((x) => x.pid === process.pid), 'node is not listed');

  const text = await runCli(['ps'], { timeoutMs: 60000 });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^\s*PID {2}PYTHON +BUILD +USER +COMMAND$/m);
  assert.match(text.stdout, new RegExp(`^\\s*${targets[0].pid} {2}${pys[0].version.replace(/\./g, '\\.')} +${pys[0].build} +root +.*ps-marker$`, 'm'));
});

test('demo starts the sample service, prints its named threads, and stops it', async () => {
  const r = await runCli(['demo'], { timeoutMs: 60000 });
  assert.equal(r.code, 0, r.stderr);
  const pid = Number(/\(pid (\d+)\)/.exec(r.stdout)![1]);
  for (const name of ['MainThread', 'http-server', 'order-worker-1', 'order-worker-2', 'cache-refresher', 'load-generator']) {
    assert.match(r.stdout, new RegExp(`^Thread \\d+ "${name}" \\(`, 'm'));
  }
  assert.match(r.stdout, /^ {4}refresh_cache \(.*examples\/sample_service\.py:\d+\)$/m);
  assert.match(r.stdout, /^ {4}main \(.*examples\/sample_service\.py:\d+\)$/m);
  assert.match(r.stdout, /stopped the sample service/);
  // each thread once: a request thread being started is not a second copy of http-server
  const ids = [...r.stdout.matchAll(/^Thread (\d+) /gm)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, `thread ids: ${ids.join(' ')}`);
  await new Promise((res) => setTimeout(res, 200));
  assert.ok(!existsSync(`/proc/${pid}`), `the service (pid ${pid}) is gone`);
});
