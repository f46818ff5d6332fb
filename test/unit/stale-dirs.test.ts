import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sweepStaleAgentDirs } from '../../src/channel/stale-dirs.js';

/** The pid of a process that has come and gone. */
function deadPid(): number {
  return Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$"'], { encoding: 'utf8' }).trim());
}

test("the sweep removes dead processes' directories only: live, young, foreign-named and symlinked ones stay", () => {
  const base = mkdtempSync(join(tmpdir(), 'spyglass-sweep-'));
  const uid = process.getuid!();
  try {
    const old = new Date(Date.now() - 60_000);
    const make = (name: string, age: Date = old) => {
      const dir = join(base, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'agent.log'), 'x');
      utimesSync(dir, age, age);
      return dir;
    };
    const [dead, young, linked] = [deadPid(), deadPid(), deadPid()];
    make(String(dead));
    make(String(young), new Date());
    make(String(process.pid));
    make('notes');
    const outside = mkdtempSync(join(tmpdir(), 'spyglass-sweep-outside-'));
    writeFileSync(join(outside, 'keep'), 'k');
    symlinkSync(outside, join(base, String(linked)));
    try {
      assert.deepEqual(sweepStaleAgentDirs(uid, base), [dead]);
      assert.deepEqual(readdirSync(base).sort(), [String(linked), String(process.pid), String(young), 'notes'].sort());
      assert.deepEqual(readdirSync(outside), ['keep'], 'a symlink is never followed');
      assert.deepEqual(sweepStaleAgentDirs(uid + 1, base), [], "another uid's base is left alone");
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
