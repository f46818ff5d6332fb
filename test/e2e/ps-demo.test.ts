// `spyglass ps` lists Python processes (exact version, build, user, command) and leaves
// out everything else; `spyglass demo` starts the sample service with each interpreter,
// shows its threads, a flame graph with the top functions, a watch of 3 calls, and stops
// it, also when interrupted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { discoverPythons, type Interpreter } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';
import { CLI_MAIN, runCli } from '../helpers/cli.js';

test("ps lists every interpreter's process with version and build, and no non-Python process", async (t) => {
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
  assert.match(
    text.stdout,
    new RegExp(`^\\s*${targets[0].pid} {2}${pys[0].version.replace(/\./g, '\\.')} +${pys[0].build} +root +.*ps-marker$`, 'm'),
  );
});

/** Runs `spyglass demo --dir DIR` with py as the python3 on PATH; onStdout sees the output as it comes. */
function runDemo(py: Interpreter, dir: string, onStdout?: (soFar: string, demo: ReturnType<typeof spawn>) => void) {
  symlinkSync(py.path, join(dir, 'python3'));
  const demo = spawn(process.execPath, [CLI_MAIN, 'demo', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${dir}${delimiter}${process.env.PATH ?? ''}` },
  });
  let stdout = '';
  let stderr = '';
  demo.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    onStdout?.(stdout, demo);
  });
  demo.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => demo.kill('SIGKILL'), 60000);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    demo.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** Fails when the service outlived the demo, and then kills it, so that a failing run leaves nothing behind. */
async function assertGone(stdout: string): Promise<void> {
  const m = /^spyglass demo: started .* \(pid (\d+)\)$/m.exec(stdout);
  if (!m) return;
  const pid = Number(m[1]);
  for (let waited = 0; waited < 5000 && existsSync(`/proc/${pid}`); waited += 50) await new Promise((res) => setTimeout(res, 50));
  const left = existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (left) process.kill(pid, 'SIGKILL');
  assert.ok(!left, `the service (pid ${pid}) is gone`);
}

// two at a time: each demo samples for 2 s and attaches
test('demo on every interpreter: the stacks, a flame graph and its top functions, 3 watched calls, then the service is stopped', {
  concurrency: 2,
}, async (t) => {
  await Promise.all(
    discoverPythons().map((py) =>
      t.test(py.label, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'spyglass-demo-test-'));
        let stdout = '';
        try {
          const r = await runDemo(py, dir);
          stdout = r.stdout;
          assert.equal(r.code, 0, r.stdout + r.stderr);
          assert.match(r.stdout, /^spyglass demo: started .*examples\/sample_service\.py with .*python3[.0-9]* \(pid \d+\)$/m);
          assert.match(r.stdout, new RegExp(`^Process \\d+: Python ${py.version.replace(/\./g, '\\.')} `, 'm'));

          // the stacks: every named thread once, with the service's own functions
          for (const name of ['MainThread', 'http-server', 'order-worker-1', 'order-worker-2', 'cache-refresher', 'load-generator']) {
            assert.match(r.stdout, new RegExp(`^Thread \\d+ "${name}" \\(`, 'm'));
          }
          for (const fn of ['refresh_cache', 'order_worker', 'generate_load', 'main']) {
            assert.match(r.stdout, new RegExp(`^ {4}${fn} \\(.*examples/sample_service\\.py:\\d+\\)$`, 'm'));
          }
          const ids = [...r.stdout.matchAll(/^Thread (\d+) /gm)].map((m) => m[1]);
          assert.equal(new Set(ids).size, ids.length, `thread ids: ${ids.join(' ')}`);

          // the profile: a flame graph in dir where the workers' pricing shows, and the top functions
          const graph = join(dir, 'flamegraph.html');
          assert.match(r.stdout, new RegExp(`^spyglass: wrote flamegraph to ${graph}: \\d+ samples`, 'm'));
          assert.match(r.stdout, new RegExp(`^  open it in a browser \\(file://${graph}\\)$`, 'm'));
          const html = readFileSync(graph, 'utf8');
          assert.match(html, /"price_order"/);
          const top = [...r.stdout.matchAll(/^ {2}([123])\. (\S+) \((\S+)\) {2}(\d+\.\d\d) s, \d+% of the samples$/gm)];
          assert.ok(top.length >= 1 && top.length <= 3, r.stdout);
          assert.deepEqual(
            top.map((m) => m[1]),
            ['1', '2', '3'].slice(0, top.length),
          );
          // names as the page's script holds them (<listcomp> is written \u003clistcomp\u003e there)
          const inPage = (name: string) => JSON.stringify(name).replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
          for (const m of top) assert.ok(html.includes(inPage(m[2])), `top function ${m[2]} is in the flame graph`);
          const seconds = top.map((m) => Number(m[4]));
          assert.deepEqual(
            seconds,
            [...seconds].sort((a, b) => b - a),
            'sorted by own time',
          );

          // the watch: exactly 3 calls of price_order on the workers, each returning its order's total
          const calls = [
            ...r.stdout.matchAll(/^─── [\d:.]+ {2}__main__\.price_order {2}cost=[\d.]+ms {2}returned {2}thread=order-worker-[12]$/gm),
          ];
          assert.equal(calls.length, 3, r.stdout);
          // each call's order (its items; the total the worker sets once the call returned may be there too) and the price
          assert.equal([...r.stdout.matchAll(/^ {16}\{'items': list\[3\](, 'total': [\d.]+)?\},$/gm)].length, 3, r.stdout);
          assert.equal([...r.stdout.matchAll(/^ {2}EXPR {8}return_obj\n {2}VALUE {7}\d+\.\d+$/gm)].length, 3, r.stdout);
          assert.match(r.stderr, /^3 call\(s\) shown \(limit reached\); hook removed$/m);
          assert.match(r.stdout, /^detached: /m);

          // the end: what to try next, and no service left
          assert.match(r.stdout, /^== stopped the sample service \(pid \d+\)/m);
          assert.match(r.stdout, /^ {2}spyglass record --pid PID/m);
          await assertGone(stdout);
        } finally {
          await assertGone(stdout).catch(() => undefined);
          rmSync(dir, { recursive: true, force: true });
        }
      }),
    ),
  );
});

test('demo interrupted (Ctrl-C) during the profile: stops the service, skips the rest, exit 130', async () => {
  const py = discoverPythons()[0];
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-demo-test-'));
  let stdout = '';
  try {
    let sent = false;
    const r = await runDemo(py, dir, (soFar, demo) => {
      stdout = soFar;
      if (!sent && /^== a 2 s profile/m.test(soFar)) {
        sent = true;
        demo.kill('SIGINT');
      }
    });
    assert.ok(sent, r.stdout);
    assert.equal(r.code, 130, r.stdout + r.stderr);
    assert.match(r.stdout, /^spyglass demo: interrupted; stopped the sample service \(pid \d+\)\.$/m);
    assert.doesNotMatch(r.stdout, /price_order {2}cost=/, 'no watch after Ctrl-C');
    await assertGone(stdout);
  } finally {
    await assertGone(stdout).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});
