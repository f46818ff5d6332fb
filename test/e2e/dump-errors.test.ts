// Bad input to `spyglass dump`: each case is one clear line (plus a hint) and a non-zero
// exit code, never a stack trace. Also: reading a 3.13 interpreter's _Py_DebugOffsets
// from a live process gives the layout its own headers describe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { ProcessGoneError } from '../../src/errors.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { openReader } from '../../src/reader/reader.js';
import { locatePython } from '../../src/reader/locate.js';
import { ProcessMemory } from '../../src/proc/memory.js';
import { DEBUG_OFFSETS_MAX_SIZE, parseDebugOffsets } from '../../src/reader/layouts/debug-offsets.js';

const pythons = discoverPythons();
const newest = pythons[pythons.length - 1];

/** exit code 1, the message on stderr in one line (and an optional hint), no stack trace */
function assertUserError(r: CliRun, message: RegExp): void {
  assert.equal(r.code, 1, `exit code; stderr=${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0], message);
  assert.ok(lines.length <= 2 && (lines.length === 1 || lines[1].startsWith('  hint: ')), r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
}

test('a pid that does not exist', async () => {
  assertUserError(await runCli(['dump', '4194303']), /^spyglass: process 4194303 does not exist/);
});

test('with --json the failure is also one JSON line on stdout, for scripts', async () => {
  const gone = await runCli(['dump', '4194303', '--json']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^spyglass: process 4194303 does not exist/);
  assert.deepEqual(JSON.parse(gone.stdout), {
    event: 'error',
    type: 'ProcessGoneError',
    message: 'process 4194303 does not exist (or has exited)',
    hint: 'check the pid with `spyglass ps`',
    exit_code: 1,
  });
  const usage = await runCli(['dump', '--json', '--no-such-option', '1']);
  assert.equal(usage.code, 2);
  const record = JSON.parse(usage.stdout);
  assert.deepEqual([record.event, record.type, record.exit_code], ['error', 'UsageError', 2]);
  assert.match(record.message, /unknown option '--no-such-option'/);
});

test('a pid that is not a number is a usage error', async () => {
  const r = await runCli(['dump', '12ab']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not a process id: '12ab'/);
});

test('a process that is not Python (sleep 100)', async (t) => {
  const sleeper = spawn('sleep', ['100'], { stdio: 'ignore' });
  t.after(() => sleeper.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 100));
  assertUserError(
    await runCli(['dump', String(sleeper.pid)]),
    new RegExp(`^spyglass: process ${sleeper.pid} \\(sleep 100\\) is not a CPython process`),
  );
});

test('no permission: an unprivileged user cannot read a root-owned target', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to start a target another user may not read');
    return;
  }
  const target = await startTarget(newest, 'locate_idle.py');
  t.after(() => target.stop());
  const r = await runCli(['dump', String(target.pid)], { uid: 65534 });
  assertUserError(r, new RegExp(`^spyglass: permission denied: cannot .* process ${target.pid}$`));
  assert.match(r.stderr, /hint: .*ptrace_scope.*CAP_SYS_PTRACE.*--cap-add SYS_PTRACE/);
});

test('a target killed after the reader opened it: ProcessGoneError, as a zombie and once reaped', async () => {
  for (const reap of [false, true]) {
    const target = await startTarget(newest, 'locate_idle.py');
    const reader = await openReader(target.pid);
    try {
      process.kill(target.pid, 'SIGKILL');
      if (reap) await target.stop();
      else await new Promise((r) => setTimeout(r, 50));
      assert.throws(
        () => reader.sample(),
        (e: unknown) => e instanceof ProcessGoneError && /process \d+ (exited|does not exist)/.test((e as Error).message),
      );
    } finally {
      reader.close();
      await target.stop();
    }
  }
});

test('a process that exits while dump runs: a full dump or one clear line, never a crash', async () => {
  const target = await startTarget(newest, 'exit_soon.py');
  try {
    const alive = await runCli(['dump', String(target.pid)]);
    assert.match(alive.stdout, /^Thread \d+ "busy-\d" /m);
    // dumps starting before, during and after the exit
    const runs = Promise.all(
      [0, 50, 100, 150, 200, 300, 600].map(
        (delay) => new Promise<CliRun>((resolve) => setTimeout(() => resolve(runCli(['dump', '--locals', String(target.pid)])), delay)),
      ),
    );
    setTimeout(() => process.kill(target.pid, 'SIGUSR1'), 150);
    for (const r of await runs) {
      // a dump that catches the interpreter finalizing shows fewer threads; that is a correct dump
      if (r.code === 0) assert.match(r.stdout, /^Process \d+: Python /);
      else assertUserError(r, /^spyglass: process \d+ (does not exist|has exited|exited while being read)/);
    }
  } finally {
    await target.stop();
  }
});

test('3.13: _Py_DebugOffsets read from a live process match the layout its headers give', async (t) => {
  const py = pythons.find((p) => p.minor === '3.13');
  if (!py) {
    t.skip('no CPython 3.13 installed');
    return;
  }
  const target = await startTarget(py, 'locate_idle.py');
  t.after(() => target.stop());
  const found = locatePython(target.pid);
  const mem = ProcessMemory.open(target.pid);
  try {
    const d = parseDebugOffsets(mem.read(found.pyRuntime, DEBUG_OFFSETS_MAX_SIZE));
    const table = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'src', 'reader', 'layouts', 'v3_13.json'), 'utf8'));
    assert.equal(d.version >>> 16, 0x030d);
    assert.equal(d.freeThreaded, false);
    const f = (n: string) => d.fields.get(n);
    assert.equal(f('runtime_state.interpreters_head'), table.runtime.interpretersHead);
    assert.equal(f('interpreter_state.threads_head'), table.interp.threadsHead);
    assert.equal(f('interpreter_state.next'), table.interp.next);
    assert.equal(f('interpreter_state.imports_modules'), table.interp.modules);
    assert.equal(f('interpreter_state.gil_runtime_state_holder')! - f('interpreter_state.gil_runtime_state')!, table.gil.lastHolder);
    assert.equal(f('thread_state.current_frame'), table.tstate.currentFrame);
    assert.equal(f('thread_state.native_thread_id'), table.tstate.nativeThreadId);
    assert.equal(f('interpreter_frame.instr_ptr'), table.iframe.instr);
    assert.equal(f('interpreter_frame.owner'), table.iframe.owner);
    assert.equal(f('code_object.co_code_adaptive'), table.code.codeAdaptive);
    assert.equal(f('code_object.linetable'), table.code.lineTable);
    assert.equal(f('unicode_object.asciiobject_size'), table.unicode.asciiSize);
    assert.equal(f('long_object.ob_digit'), table.long.digits);
  } finally {
    mem.close();
    found.close();
  }
});
