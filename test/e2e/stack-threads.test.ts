// A stack read from outside belongs to the thread it is shown under: on a target whose
// threads all recurse through one function with the GIL handed over every microsecond
// (3.8-3.10 then reuse a frame one thread freed for another thread's call at once), no
// stack `record` keeps or `dump` shows holds another thread's frames. Each worker thread
// worker-K runs its own bottom function worker_K, so a walk that ran on into another
// thread's frames shows under one thread's name the other's function
// (docs/stack-consistency.md §1.4).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { parseCollapsed, READY_TIMEOUT_MS, totalSamples } from '../helpers/profiles.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';
import { openReader } from '../../src/reader/reader.js';
import { readExact } from '../../src/sampler/exact.js';

const WORKERS = 4;
const DEPTH = 20;
const THREAD_NAMES = ['MainThread', ...Array.from({ length: WORKERS }, (_, k) => `worker-${k + 1}`)];

const dir = mkdtempSync(join(tmpdir(), 'spyglass-stack-threads-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Why these frames (innermost first) are not a stack of thread `name`, or undefined. */
function notItsStack(name: string, frames: string[]): string | undefined {
  const workers = frames.filter((f) => /^worker_\d+$/.test(f));
  const own = name === 'MainThread' ? [] : [name.replace('-', '_')];
  const text = `${name}: ${frames.join(' ')}`;
  if (workers.join() !== own.join()) return `another thread's frames: ${text}`;
  // the main thread's first frame is <module>, a worker's threading's bootstrap
  if (!/(^|\.)(<module>|_bootstrap)$/.test(frames.at(-1) ?? '')) return `not rooted: ${text}`;
  if (frames.at(-1) === '<module>' && name !== 'MainThread') return `rooted at <module>: ${text}`;
  return undefined;
}

// one interpreter at a time: the race needs the target's threads to keep a core busy
describe("a thread's stack never holds another thread's frames", { concurrency: 1 }, () => {
  for (const py of discoverPythons()) {
    test(`${py.label}: record --threads keeps no stack under the wrong thread`, async (t) => {
      const target = await startTarget(py, 'threads_recursion.py', [String(WORKERS), String(DEPTH)], {
        readyTimeoutMs: READY_TIMEOUT_MS,
      });
      t.after(() => target.stop());
      const out = join(dir, `${py.label}.txt`);
      const run = await runCli(['record', '-p', String(target.pid), '-d', '3', '-r', '200', '--threads', '-f', 'collapsed', '-o', out], {
        timeoutMs: 120000,
      });
      assert.equal(run.code, 0, run.stderr);
      const stacks = parseCollapsed(readFileSync(out, 'utf8'));
      assert.ok(totalSamples(stacks) >= 100, `only ${totalSamples(stacks)} samples kept: ${run.stderr}`);
      const seen = new Set<string>();
      for (const [labels, count] of stacks) {
        // root first: 'thread TID "NAME"', then "fn (file:line)" frames
        const name = /^thread \d+ "(.*)"$/.exec(labels[0])?.[1];
        assert.ok(name !== undefined && THREAD_NAMES.includes(name), `a stack under ${labels[0]}`);
        seen.add(name);
        const frames = labels
          .slice(1)
          .map((l) => l.slice(0, l.lastIndexOf(' (')))
          .reverse();
        const wrong = notItsStack(name, frames);
        assert.equal(wrong, undefined, `${count} samples: ${wrong}`);
      }
      assert.deepEqual([...seen].sort(), [...THREAD_NAMES].sort());
    });

    test(`${py.label}: 50 dumps show each thread's own stack`, async (t) => {
      // not our child: pausing a thread (ptrace) from this process must not race with Node's reaping
      const target = await startTarget(py, 'threads_recursion.py', [String(WORKERS), String(DEPTH)], {
        readyTimeoutMs: READY_TIMEOUT_MS,
        notChild: true,
      });
      t.after(() => target.stop());
      for (let i = 0; i < 50; i++) {
        // a reader of its own each time, as the dump command has: it knows no thread yet
        const reader = await openReader(target.pid);
        try {
          const dump = await readExact(reader);
          assert.deepEqual(dump.threads.map((th) => th.name).sort(), [...THREAD_NAMES].sort(), `dump ${i}`);
          for (const th of dump.threads) {
            assert.equal(th.torn, undefined, `dump ${i}: ${th.name} left torn`);
            assert.equal(
              notItsStack(
                th.name!,
                th.frames.map((f) => f.name),
              ),
              undefined,
              `dump ${i}`,
            );
          }
        } finally {
          reader.close();
        }
      }
    });
  }
});
