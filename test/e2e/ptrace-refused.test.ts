// When the kernel refuses to let spyglass pause a thread, with the memory still readable:
// here because another process (test/targets/ptrace_holder.py, as a debugger or strace
// would) already traces the target's main thread, and a thread has one tracer at a time.
// The commands that must pause (dump --native, record --blocking) fail with one line that
// names that tracer; a plain dump never needs to, or says so once and shows the thread
// as torn (docs/stack-consistency.md §2); the target runs on, undisturbed, either way.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliRun } from '../helpers/cli.js';
import { READY_TIMEOUT_MS } from '../helpers/profiles.js';
import { discoverPythons } from '../helpers/pythons.js';
import { markerLines, startTarget, type Target, TARGETS_DIR } from '../helpers/targets.js';

const SCRIPT = join(TARGETS_DIR, 'recursive_loop.py');
const LINES = markerLines(SCRIPT);

const dir = mkdtempSync(join(tmpdir(), 'spyglass-ptrace-refused-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function refusedByTracer(r: CliRun, pid: number, holder: number, what: string): void {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.equal(lines[0], `spyglass: permission denied: cannot pause the threads (ptrace, for ${what}) of process ${pid}`);
  assert.match(lines[1], new RegExp(`^  hint: thread ${pid} is being traced by process ${holder} \\(a debugger`));
}

describe('a target whose main thread another process traces', () => {
  for (const py of discoverPythons()) {
    test(`${py.label}: --native and --blocking say who holds it; a plain dump still reads`, async (t) => {
      const target = await startTarget(py, 'recursive_loop.py', ['20'], { readyTimeoutMs: READY_TIMEOUT_MS, heartbeat: true });
      let holder: Target | undefined;
      // the holder first: a traced process's end is reported to its tracer before its parent
      t.after(async () => {
        await holder?.stop();
        await target.stop();
      });
      holder = await startTarget(py, 'ptrace_holder.py', [String(target.pid)], { readyTimeoutMs: READY_TIMEOUT_MS });

      refusedByTracer(await runCli(['dump', '--native', String(target.pid)]), target.pid, holder.pid, '--native');
      const out = join(dir, `${py.label}.txt`);
      refusedByTracer(
        await runCli(['record', '--blocking', '-p', String(target.pid), '-d', '1', '-f', 'collapsed', '-o', out], { timeoutMs: 60000 }),
        target.pid,
        holder.pid,
        '--blocking',
      );

      const dump = await runCli(['dump', '--json', String(target.pid)]);
      assert.equal(dump.code, 0, dump.stderr);
      const main = JSON.parse(dump.stdout).threads.find((th: { tid: number }) => th.tid === target.pid);
      if (main.torn === null) {
        // read exactly without a pause: nothing to say
        assert.equal(dump.stderr, '');
        assert.equal(main.frames.at(-1).name, '<module>');
        assert.ok([LINES.loop, LINES.loophead].includes(main.frames.at(-1).line), JSON.stringify(main.frames.at(-1)));
      } else {
        // it needed a pause and could not have one: said once, and the thread marked torn
        assert.match(dump.stderr, /^spyglass: permission denied: .*: a thread whose stack kept changing is shown as torn/);
        assert.equal(dump.stderr.match(/permission denied/g)?.length, 1, dump.stderr);
        assert.match(dump.stderr, new RegExp(`hint: thread ${target.pid} is being traced by process ${holder.pid}`));
      }
      // the target was never stopped for good: it still runs (stop checks its heartbeat)
      await target.assertProgressing();
    });
  }
});
