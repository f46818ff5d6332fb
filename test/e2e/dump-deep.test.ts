// A stack deeper than the frames spyglass reads of one thread (4096): the innermost
// frames are read and the outermost left out, and the text says so in either order; a
// recording roots such stacks at a frame that says so, not at a call in the recursion.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverPythons } from '../helpers/pythons.js';
import { markerLines, startTarget, TARGETS_DIR } from '../helpers/targets.js';
import { runCli } from '../helpers/cli.js';

const SCRIPT = join(TARGETS_DIR, 'deep_sleep.py');
const LINES = markerLines(SCRIPT);
const DEPTH = 5000;

describe('dump of a stack deeper than it reads', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    test(py.label, async (t) => {
      const target = await startTarget(py, 'deep_sleep.py', [String(DEPTH)]);
      t.after(() => target.stop());
      const pid = String(target.pid);

      const json = await runCli(['dump', pid, '--json']);
      assert.equal(json.code, 0, json.stderr);
      const main = JSON.parse(json.stdout).threads[0];
      assert.equal(main.truncated, true);
      assert.equal(main.frames.length, 4096);
      assert.deepEqual([main.frames[0].name, main.frames[0].line], ['recurse', LINES.sleep]);
      assert.ok(
        main.frames.slice(1).every((f: { name: string; line: number }) => f.name === 'recurse' && f.line === LINES.recurse),
        'below the innermost frame, recursion only: <module> is among the frames left out',
      );

      const sleep = `    recurse (${SCRIPT}:${LINES.sleep})`;
      const cut = '    ... (outermost frames left out)';
      const text = (await runCli(['dump', pid])).stdout.trimEnd().split('\n');
      assert.equal(text[3], sleep, 'innermost first: the frame that sleeps comes first');
      assert.equal(text.at(-1), cut, 'and the cut at the end');
      const traceback = (await runCli(['dump', pid, '--outermost-first'])).stdout.trimEnd().split('\n');
      assert.equal(traceback[3], cut, 'outermost first: the cut comes first, and it is still the outermost frames');
      assert.equal(traceback.at(-1), sleep);
    });
  }
});

describe('record of a stack deeper than it reads', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    test(py.label, async (t) => {
      const target = await startTarget(py, 'deep_sleep.py', [String(DEPTH), 'busy']);
      const dir = mkdtempSync(join(tmpdir(), 'spyglass-deep-'));
      t.after(async () => {
        await target.stop();
        rmSync(dir, { recursive: true, force: true });
      });
      const out = join(dir, 'deep.txt');
      const run = await runCli(['record', '-p', String(target.pid), '-d', '1', '-r', '50', '-f', 'collapsed', '-o', out]);
      assert.equal(run.code, 0, run.stderr);
      const stacks = readFileSync(out, 'utf8').trim().split('\n');
      assert.ok(stacks.length > 0, 'samples were kept');
      for (const line of stacks) {
        const frames = line.slice(0, line.lastIndexOf(' ')).split(';');
        assert.equal(frames[0], '(outermost frames left out)', line.slice(0, 200));
        assert.equal(frames.length, 4097, 'the 4096 frames read under it');
        assert.match(frames.at(-1)!, new RegExp(`^recurse \\(.*deep_sleep\\.py:${LINES.busy}\\)$`));
      }
    });
  }
});
