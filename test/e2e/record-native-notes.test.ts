// record --native says the native layer's notes once each with its closing summary, as
// dump --native does, and carries them in the profile (pprof's comments): a stripped
// library given a corrupt MiniDebugInfo section (test/helpers/native-fixture.ts), called
// through ctypes (test/targets/native_lines.py) and parked in pause(), is recorded with
// --idle on every interpreter; the note naming its .gnu_debugdata must appear exactly once.
// top --native, on a terminal (tmux), says it once too, after its full-screen view is gone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { before, describe, test } from 'node:test';
import { Profile } from 'pprof-format';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { CLI_MAIN, runCli } from '../helpers/cli.js';
import { addMiniDebugInfo, hasGcc } from '../helpers/native-fixture.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';
import { startTmux } from '../helpers/tmux.js';

const SOURCE = join(PACKAGE_ROOT, 'test', 'fixtures', 'native', 'static-fn.c');
const dir = mkdtempSync(join(tmpdir(), 'spyglass-record-native-notes-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const NOTE = /cannot read the \.gnu_debugdata \(MiniDebugInfo\) symbols of \S*libcorrupt\.so: /g;

describe('record --native: the native layer notes, once each', { concurrency: 1, skip: !hasGcc() && 'gcc is not installed' }, () => {
  const lib = join(dir, 'libcorrupt.so');
  before(() => {
    execFileSync('gcc', ['-g', '-O1', '-shared', '-fPIC', '-o', lib, SOURCE]);
    addMiniDebugInfo(lib, { corrupt: true });
  });

  for (const py of discoverPythons()) {
    test(`${py.label}: a corrupt .gnu_debugdata: one note in the summary and in the profile`, async (t) => {
      const target = await startTarget(py, 'native_lines.py', [lib]);
      t.after(() => target.stop());
      await target.waitFor(/READY/);
      const out = join(dir, `${py.label}.pb.gz`);
      const r = await runCli(['record', '-p', String(target.pid), '--native', '--idle', '-d', '1', '-r', '50', '-f', 'pprof', '-o', out], {
        timeoutMs: 60000,
      });
      assert.equal(r.code, 0, r.stderr);
      const notes = r.stderr.split('\n').filter((l) => l.includes('.gnu_debugdata'));
      assert.equal(notes.length, 1, r.stderr);
      assert.match(notes[0], /^ {2}note: /);
      assert.equal([...r.stderr.matchAll(NOTE)].length, 1, r.stderr);
      // the summary's first line comes before the note: the note closes it
      assert.ok(r.stderr.indexOf('spyglass: wrote pprof') < r.stderr.indexOf(notes[0]), r.stderr);

      const p = Profile.decode(gunzipSync(readFileSync(out)));
      const comments = p.comment.map((i) => String(p.stringTable.strings[Number(i)]));
      const inProfile = comments.filter((c) => c.includes('.gnu_debugdata'));
      assert.equal(inProfile.length, 1, comments.join(' | '));
      assert.equal(`  ${inProfile[0]}`, notes[0]);
    });
  }

  // the terminal view does not depend on the version: the newest interpreter
  const py = discoverPythons().at(-1);
  test(`top --native on a terminal (${py?.label}): the note once, after the view is gone`, { skip: !py && 'no interpreter' }, async (t) => {
    const target = await startTarget(py!, 'native_lines.py', [lib]);
    t.after(() => target.stop());
    await target.waitFor(/READY/);
    const term = await startTmux([process.execPath, CLI_MAIN, 'top', String(target.pid), '--native', '--idle'], { width: 160, height: 40 });
    t.after(() => term.kill());
    // the view shows the Python caller and the libc function it waits in
    await term.waitFor((s) => /wait_in_c \(/.test(s) && /\bpause\b/.test(s), { timeoutMs: 60000 });
    await term.send('q');
    assert.equal(await term.waitForExit(30000), 0);
    const screen = await term.screen();
    assert.doesNotMatch(screen, /spyglass top ·/, screen);
    const notes = screen.split('\n').filter((l) => l.includes('.gnu_debugdata'));
    assert.equal(notes.length, 1, screen);
    assert.match(notes[0], /^spyglass: note: cannot read the \.gnu_debugdata \(MiniDebugInfo\) symbols of \S*libcorrupt\.so: /);
    assert.ok(target.alive());
  });
});
