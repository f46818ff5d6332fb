// A thread inside its trace function while it handles a `call` event: on 3.8-3.10 the
// entered frame is the thread's frame but not yet executing, which a torn read also
// shows; the reader accepts it then (the thread's `tracing` counter says so) and only
// then (docs/stack-consistency.md §1). Every interpreter must show the whole stack,
// exact, never torn: in_tracer -> tracer -> traced -> caller -> <module>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { discoverPythons } from '../helpers/pythons.js';
import { markerLines, startTarget, TARGETS_DIR } from '../helpers/targets.js';
import type { JsonFrame } from '../helpers/dump-json.js';

const LINES = markerLines(join(TARGETS_DIR, 'tracing_call.py'));

interface JsonThread {
  frames: JsonFrame[];
  torn?: string;
}

for (const py of discoverPythons()) {
  test(`${py.label}: dump of a thread in its trace function's call event is whole and not torn`, async (t) => {
    const target = await startTarget(py, 'tracing_call.py');
    t.after(() => target.stop());
    // several dumps: each is a fresh read, and none may come out torn or cut short
    for (let i = 0; i < 5; i++) {
      const run = await runCli(['dump', String(target.pid), '--json', '--nonblocking']);
      assert.equal(run.code, 0, run.stderr);
      const [thread] = (JSON.parse(run.stdout) as { threads: JsonThread[] }).threads;
      assert.equal(thread.torn, null, `dump ${i}: torn: ${thread.torn}`);
      const names = thread.frames.map((f) => f.name.replace(/^.*\./, ''));
      assert.deepEqual(names, ['in_tracer', 'tracer', 'traced', 'caller', '<module>'], `dump ${i}`);
      const [spin, tracer, , caller, module] = thread.frames;
      // the loop runs its `while` line and its body's: either may be the current one
      assert.ok([LINES.spin, LINES.spin + 1].includes(spin.line ?? -1), `dump ${i}: in_tracer at line ${spin.line}`);
      assert.deepEqual(
        [tracer.line, caller.line, module.line],
        [LINES.tracer, LINES.caller, LINES.module],
        `dump ${i}: ${JSON.stringify(thread.frames)}`,
      );
    }
  });
}
