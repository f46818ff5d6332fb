// --native pauses Python threads with ptrace: it must never leave one stopped nor lose
// the target's work. 1000 readings of a busy multithreaded target (test/targets/
// native_busy.py), then its sleeps, pipe bytes and counters are checked; and a spyglass
// killed while it holds threads stopped must leave them running.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { whilePaused } from '../../src/proc/pause.js';
import { readMixedStacks } from '../../src/native/mixed-stacks.js';
import { NativeProcess } from '../../src/native/native-process.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { openReader } from '../../src/reader/reader.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget, type Target } from '../helpers/targets.js';

const READINGS = 1000;

function stoppedThreads(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`)
    .map(Number)
    .filter((tid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        return /^[tT]/.test(stat.slice(stat.lastIndexOf(')') + 2));
      } catch {
        return false;
      }
    });
}

interface Status {
  cpu0: number;
  cpu1: number;
  sleeps: number;
  short: number;
  written: number;
  read: number;
  errors: number;
}

function lastStatus(target: Target): Status {
  // complete lines only: the last one may still be arriving
  const line = target
    .stdout()
    .split('\n')
    .slice(0, -1)
    .filter((l) => l.startsWith('STATUS'))
    .at(-1)!;
  const [cpu0, cpu1, sleeps, short, written, read, errors] = line.split(' ').slice(1).map(Number);
  return { cpu0, cpu1, sleeps, short, written, read, errors };
}

async function nextStatus(target: Target): Promise<Status> {
  const lines = () =>
    target
      .stdout()
      .split('\n')
      .slice(0, -1)
      .filter((l) => l.startsWith('STATUS')).length;
  const n = lines();
  for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
    if (lines() > n) return lastStatus(target);
  }
  throw new Error('the target stopped reporting');
}

// two busy targets at a time: more starve a small machine's threads of the CPU they need to stop
describe('--native pauses and always resumes', { concurrency: 2 }, () => {
  for (const py of discoverPythons()) {
    test(`${py.label}: ${READINGS} readings of a busy target lose none of its work`, async (t) => {
      const target = await startTarget(py, 'native_busy.py', [], { notChild: true });
      t.after(() => target.stop());
      await nextStatus(target);
      const reader = await openReader(target.pid);
      t.after(() => reader.close());
      const np = new NativeProcess(target.pid);
      t.after(() => np.close());
      let threads = 0;
      let merged = 0;
      let failed = 0;
      for (let i = 0; i < READINGS; i++) {
        let dump: Awaited<ReturnType<typeof readMixedStacks>>;
        try {
          dump = await readMixedStacks(reader, np);
        } catch (e) {
          // a thread not scheduled in time on a loaded machine: the reading fails cleanly
          if (!(e instanceof UserError) || !/did not stop within/.test(e.message)) throw e;
          failed++;
          continue;
        }
        for (const th of dump.threads) {
          threads++;
          if (th.native?.merged) merged++;
        }
        // the pause ends with the reading
        if (i % 100 === 0) assert.deepEqual(stoppedThreads(target.pid), []);
      }
      assert.deepEqual(stoppedThreads(target.pid), []);
      assert.ok(failed <= READINGS / 100, `${failed} readings failed`);
      assert.ok(threads >= (READINGS - failed) * 6, `${threads} thread readings`);
      assert.ok(merged / threads >= 0.99, `${merged} of ${threads} thread readings merged`);
      const before = await nextStatus(target);
      const after = await nextStatus(target);
      // no sleep ended early (an interrupted sleep resumes for what is left of it), no byte lost, no error
      assert.equal(after.short, 0);
      assert.equal(after.errors, 0);
      // every byte written by one report has been read a few reports later
      let later = after;
      for (let i = 0; i < 5 && later.read < before.written; i++) later = await nextStatus(target);
      assert.ok(later.read >= before.written, `${before.written} written, ${later.read} read later`);
      // and every worker still works: within 5 s (a 100 ms report can pass without the
      // sleeper getting the GIL back from two spinning threads on a loaded machine)
      const works = (s: Status) => s.cpu0 > before.cpu0 && s.cpu1 > before.cpu1 && s.sleeps > before.sleeps && s.read > before.read;
      let now = after;
      for (let i = 0; i < 50 && !works(now); i++) now = await nextStatus(target);
      assert.ok(works(now), JSON.stringify({ before, after: now }));
      assert.equal(target.stderr(), '');
    });
  }

  const py = discoverPythons()[0];
  test(`${py?.label}: a spyglass killed while it holds threads stopped leaves them running`, {
    skip: !py && 'no interpreter',
  }, async (t) => {
    const target = await startTarget(py, 'native_busy.py', [], { notChild: true });
    t.after(() => target.stop());
    const pause = join(PACKAGE_ROOT, 'dist', 'src', 'proc', 'pause.js');
    const tids = readdirSync(`/proc/${target.pid}/task`).map(Number);
    // pauses every thread, says so, then never returns
    const code = `const { whilePaused } = await import(${JSON.stringify(pause)}); await whilePaused(${target.pid}, ${JSON.stringify(tids)}, () => { console.log('PAUSED'); for (;;); }, 10000);`;
    const holder = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let holderErr = '';
    holder.stderr!.on('data', (d: Buffer) => (holderErr += d));
    t.after(() => holder.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on('data', (d: Buffer) => d.toString().includes('PAUSED') && resolve());
      holder.on('exit', () => reject(new Error(`the holder exited: ${holderErr}`)));
    });
    assert.ok(stoppedThreads(target.pid).length > 0, 'the holder stopped no thread');
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    for (const until = Date.now() + 2000; stoppedThreads(target.pid).length && Date.now() < until; )
      await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(stoppedThreads(target.pid), []);
    const before = await nextStatus(target);
    const after = await nextStatus(target);
    assert.ok(after.cpu0 > before.cpu0 && after.sleeps > before.sleeps && after.read > before.read, JSON.stringify({ before, after }));
  });

  test(`${py?.label}: a thread named twice is paused once, not refused as traced already`, {
    skip: !py && 'no interpreter',
  }, async (t) => {
    // while a thread starts, two thread states can carry one OS thread id (reader.ts)
    const target = await startTarget(py, 'native_busy.py', [], { notChild: true });
    t.after(() => target.stop());
    const tids = readdirSync(`/proc/${target.pid}/task`).map(Number);
    const paused = await whilePaused(target.pid, [tids[0], ...tids, tids[0]], (p) => p.map((x) => x.tid));
    assert.deepEqual([...paused].sort(), [...tids].sort());
    assert.deepEqual(stoppedThreads(target.pid), [], 'every thread let go');
  });
  test(`${py?.label}: a thread the first look missed is paused and unwound all the same`, {
    skip: !py && 'no interpreter',
  }, async (t) => {
    // the first look at the thread list can stop short of a thread (the list was being
    // changed) or a thread can start after it: the reading is made again with it paused
    const target = await startTarget(py, 'native_busy.py', [], { notChild: true });
    t.after(() => target.stop());
    const reader = await openReader(target.pid);
    t.after(() => reader.close());
    const np = new NativeProcess(target.pid);
    t.after(() => np.close());
    const sample = reader.sample.bind(reader);
    let looks = 0;
    reader.sample = (opts) => {
      const dump = sample(opts);
      // the first look (before any pause) loses the main thread
      return looks++ === 0 ? { ...dump, threads: dump.threads.filter((th) => th.tid !== target.pid) } : dump;
    };
    const dump = await readMixedStacks(reader, np);
    const main = dump.threads.find((th) => th.tid === target.pid);
    assert.ok(main, 'the main thread is read');
    assert.ok(main.native && main.native.frames.length > 0, 'and its native stack too');
    assert.ok(
      dump.threads.every((th) => th.native !== undefined),
      'every thread paused and unwound',
    );
    assert.ok(looks >= 3, `${looks} looks: the first, a reading without the main thread, a reading with it`);
    assert.deepEqual(stoppedThreads(target.pid), [], 'every thread let go');
  });
});
