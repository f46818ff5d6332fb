// `dump --subprocesses` on a process tree (test/targets/process_tree.py): the target, the
// two workers of its multiprocessing.Pool and a subprocess child are each dumped once,
// headed by pid and command line, each in its own known function; the zombie child is
// passed over; --json prints one document per process; a root that is not Python (a
// shell) is dumped through its Python descendants. On every interpreter. A process below
// it that the user may not read is left out and said so, by dump and by record.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runCli } from '../helpers/cli.js';
import { discoverPythons } from '../helpers/pythons.js';
import { markerLines, startTarget, TARGETS_DIR } from '../helpers/targets.js';
import { join } from 'node:path';

const SCRIPT = join(TARGETS_DIR, 'process_tree.py');
const LINES = markerLines(SCRIPT);

describe('dump --subprocesses', { concurrency: 2 }, () => {
  for (const py of discoverPythons()) {
    test(`${py.label}: a pool of 2, a subprocess child and a zombie`, async (t) => {
      const target = await startTarget(py, 'process_tree.py', [], { readyTimeoutMs: 60000 });
      const readyPids: number[] = [];
      t.after(async () => {
        // the pool's workers and the child are ours to stop too, by pid
        for (const pid of readyPids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
        await target.stop();
      });
      const [w1, w2, child, zombie] = (await target.waitFor(/^READY /)).split(' ').slice(1).map(Number);
      readyPids.push(w1, w2, child);

      const run = await runCli(['dump', String(target.pid), '--subprocesses'], { timeoutMs: 60000 });
      assert.equal(run.code, 0, run.stderr);
      const headings = run.stdout.split('\n').filter((l) => l.startsWith('Process '));
      const pids = headings.map((h) => Number(/^Process (\d+)/.exec(h)![1]));
      assert.deepEqual([...pids].sort(), [target.pid, w1, w2, child].sort(), run.stdout);
      assert.ok(!pids.includes(zombie), 'the zombie is passed over');
      // each process's own function, under its own heading
      const section = (pid: number) => {
        const text = run.stdout.slice(run.stdout.indexOf(`Process ${pid}: `));
        const next = text.indexOf('\nProcess ', 1);
        return next < 0 ? text : text.slice(0, next);
      };
      assert.match(section(target.pid), new RegExp(`main_sleep \\(${SCRIPT}:${LINES.main}\\)`));
      for (const w of [w1, w2]) assert.match(section(w), new RegExp(`pool_task \\(${SCRIPT}:${LINES.pool}\\)`));
      assert.match(section(child), /child_sleep \(<string>:4\)/);
      // py-spy's heading, "Process PID:", which its users' scripts count; the command line below
      assert.match(section(target.pid), /^Process \d+: Python .*\nCommand: .*process_tree\.py\n/);
      assert.match(section(child), /^Process \d+: Python .*\nCommand: .*-c import time\\ndef child_sleep/);
      for (const pid of pids) assert.equal(headings.filter((h) => h.startsWith(`Process ${pid}:`)).length, 1);

      const json = await runCli(['dump', String(target.pid), '--subprocesses', '--json'], { timeoutMs: 60000 });
      assert.equal(json.code, 0, json.stderr);
      const docs = json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepEqual(docs.map((d) => d.pid).sort(), [target.pid, w1, w2, child].sort());
      for (const d of docs) assert.match(d.cmdline, /python|-c/);

      // a shell above it all: dumped through its Python descendants (bash -c ... & wait)
      const shell = await runCli(['dump', String(process.pid), '--subprocesses'], { timeoutMs: 60000 });
      assert.equal(shell.code, 0, shell.stderr);
      assert.match(
        shell.stdout,
        new RegExp(`^Process ${target.pid}: `, 'm'),
        'the test runner (node) is not Python; its Python children are',
      );
    });
  }
});

describe('--subprocesses with a process below it that the user may not read', () => {
  const NOBODY = 65534;
  const script = join(TARGETS_DIR, 'undumpable_child.py');
  // the target becomes nobody: its interpreter and script must be nobody's to run and read
  const asNobody = (args: string[]) =>
    spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...args], { stdio: 'ignore', cwd: '/' }).status === 0;
  const py = process.getuid?.() === 0 ? discoverPythons().find((p) => asNobody([p.path, script, '--check'])) : undefined;

  test('dump and record leave it out, say so, and show the others', {
    skip: !py && 'needs root and a Python that user nobody may run',
  }, async (t) => {
    const target = await startTarget(py!, 'undumpable_child.py');
    let child = 0;
    t.after(async () => {
      if (child) process.kill(child, 'SIGKILL');
      await target.stop();
    });
    child = Number((await target.waitFor(/^READY /)).split(' ')[1]);
    const leftOut = new RegExp(
      `^spyglass: left out process ${child} \\(.*undumpable_child\\.py\\): permission denied: cannot read the memory map of process ${child}$`,
      'm',
    );

    // it once failed whole, for the one process it could not read
    const dump = await runCli(['dump', String(target.pid), '--subprocesses'], { uid: NOBODY });
    assert.equal(dump.code, 0, dump.stderr);
    assert.match(dump.stdout, new RegExp(`^Process ${target.pid}: `, 'm'));
    assert.match(dump.stdout, /parent_sleep \(/);
    assert.doesNotMatch(dump.stdout, new RegExp(`^Process ${child}: `, 'm'));
    assert.match(dump.stderr, leftOut);
    assert.match(dump.stderr, /^ {2}hint: /m);

    const dir = mkdtempSync(join(tmpdir(), 'spyglass-undumpable-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o777);
    const out = join(dir, 'profile.txt');
    const record = await runCli(['record', '-p', String(target.pid), '-s', '-i', '-d', '1', '-f', 'collapsed', '-o', out], {
      uid: NOBODY,
      timeoutMs: 60000,
    });
    assert.equal(record.code, 0, record.stderr);
    assert.match(record.stderr, new RegExp(`^  note: ${leftOut.source.slice(1).replace('spyglass: ', '')}`, 'm'));
    assert.match(readFileSync(out, 'utf8'), /parent_sleep \(/);
  });
});
