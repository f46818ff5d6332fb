// One-shot mode, `spyglass PID --cmd "COMMAND"`, on every interpreter, against
// test/targets/shell_app.py: `stack` prints what `spyglass dump` prints; --json prints
// JSON lines with the command's records; a streaming command ends at its -n limit or at
// --timeout with exit 0; unknown module/function exit 1 with one line; afterwards the
// target runs its original code and its results are unchanged. Usage errors (exit 2)
// are the shell's own and the same everywhere: checked on one interpreter.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverPythons } from '../helpers/pythons.js';
import { markerLines, startTarget, TARGETS_DIR } from '../helpers/targets.js';
import { assertShellAppUntouched } from '../helpers/shell-app.js';
import { CLI_MAIN, runCli, type CliRun } from '../helpers/cli.js';

const SCRIPT = join(TARGETS_DIR, 'shell_app.py');
const LINES = markerLines(SCRIPT);

/** `Thread TID "name" (state)` blocks of the dump text (`Traceback for thread ...` in stack's): name -> frame lines. */
function threadsOf(text: string): Map<string, string[]> {
  const threads = new Map<string, string[]>();
  let frames: string[] | undefined;
  for (const line of text.split('\n')) {
    const head = /^(?:Traceback for thread|Thread) \d+ "(.*)"/.exec(line);
    if (head) threads.set(head[1], (frames = []));
    else if (frames && /^ {4}\S/.test(line)) frames.push(line.trim());
  }
  return threads;
}

/** The target's own threads (the agent's are spyglass-*: they come and go with clients). */
function ownThreads(text: string): Map<string, string[]> {
  return new Map([...threadsOf(text)].filter(([name]) => !name.startsWith('spyglass-')));
}

function ok(r: CliRun, what: string): CliRun {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** One clear line (and at most a hint line), no stack trace. */
function oneLineError(r: CliRun, code: number, re: RegExp): void {
  assert.equal(r.code, code, `exit ${r.code}; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0], re, r.stderr);
  assert.ok(lines.length <= 2 && (lines.length === 1 || /^ {2}hint: /.test(lines[1])), r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

describe('one-shot --cmd on every interpreter', { concurrency: 3 }, () => {
  for (const py of discoverPythons()) {
    test(`${py.label}: stack = dump, --json, -n and --timeout, not-found errors, target unchanged`, async (t) => {
      const target = await startTarget(py, 'shell_app.py', [], { progress: /^HANDLED / });
      t.after(() => target.stop());
      const pid = String(target.pid);

      // stack in the shell prints what dump prints
      const stack = ok(await runCli([pid, '--cmd', 'stack']), 'stack');
      const dump = ok(await runCli(['dump', pid]), 'dump');
      const fromStack = ownThreads(stack.stdout);
      const fromDump = ownThreads(dump.stdout);
      assert.deepEqual(new Set(fromStack.keys()), new Set(['MainThread', 'parked-1', 'parked-2', 'caller']));
      assert.deepEqual(new Set(fromDump.keys()), new Set(fromStack.keys()));
      for (const name of ['parked-1', 'parked-2']) assert.deepEqual(fromStack.get(name), fromDump.get(name), name);
      const minor = Number(py.minor.split('.')[1]);
      const park = fromStack.get('parked-1')!.find((f) => f.startsWith('park '));
      assert.equal(park, `park (${SCRIPT}:${LINES.park})`);
      assert.ok(fromStack.get('parked-1')!.includes(`parked_in_middle (${SCRIPT}:${LINES.middle})`));
      const fnNames = (frames: string[] | undefined) => (frames ?? []).map((f) => f.split(' ')[0]);
      assert.deepEqual(fnNames(fromStack.get('MainThread')), ['main_loop', '<module>']);
      assert.deepEqual(fnNames(fromDump.get('MainThread')), ['main_loop', '<module>']);
      assert.equal(stack.stdout.split('\n')[0], dump.stdout.split('\n')[0], 'the same header line');
      if (minor >= 11) assert.ok(fnNames(fromStack.get('caller')).includes('Thread.run'));

      // --json: one JSON value per line, the same stacks
      const json = ok(await runCli([pid, '--json', '--cmd', 'stack']), 'stack --json');
      const lines = json.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 1);
      const doc = JSON.parse(lines[0]) as { pid: number; threads: Array<{ name: string; frames: Array<{ name: string; line: number }> }> };
      assert.equal(doc.pid, target.pid);
      const parked = doc.threads.find((x) => x.name === 'parked-2');
      assert.ok(
        parked?.frames.some((f) => f.name === 'park' && f.line === LINES.park),
        JSON.stringify(parked),
      );

      // a streaming command ends at its -n limit: exactly that many calls, as JSON lines
      const watched = ok(await runCli([pid, '--json', '--cmd', 'watch __main__ handle -n 2']), 'watch -n 2');
      const records = watched.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const calls = records.filter((r) => r.event === 'call') as Array<{
        method: string;
        thread: string;
        values: Array<{ expr: string; value: { repr: string } }>;
      }>;
      assert.equal(calls.length, 2);
      for (const c of calls) {
        assert.equal(c.method, '__main__.handle');
        assert.equal(c.thread, 'caller');
        assert.match(c.values.find((v) => v.expr === 'args')!.value.repr, /^\(\d+,\)$/);
      }
      assert.deepEqual(records.at(-1), { event: 'end', shown: 2, dropped: 0, reason: 'limit' });

      // ... or at --timeout when nothing comes: exit 0, and it did wait
      const started = Date.now();
      const waited = ok(await runCli([pid, '--cmd', 'watch __main__ never_called', '--timeout', '1.5']), 'watch --timeout');
      assert.ok(Date.now() - started >= 1500, 'the command waited for --timeout');
      assert.match(waited.stderr, /0 call\(s\) shown \(stopped\); hook removed/);

      // unknown module / function: one line, exit 1
      oneLineError(
        await runCli([pid, '--cmd', 'watch no_such_module f']),
        1,
        /^spyglass: module no_such_module is not imported in the target$/,
      );
      oneLineError(
        await runCli([pid, '--cmd', 'watch __main__ no_such_function']),
        1,
        /^spyglass: module __main__ has no function no_such_function$/,
      );
      oneLineError(await runCli([pid, '--cmd', 'getglobal __main__ NO_SUCH']), 1, /NO_SUCH/);
      // with --json the agent's error is also a JSON line on stdout, typed by the agent
      const jsonFailure = await runCli([pid, '--json', '--cmd', 'watch no_such_module f']);
      assert.equal(jsonFailure.code, 1);
      const failure = JSON.parse(jsonFailure.stdout) as Record<string, unknown>;
      assert.deepEqual(
        [failure.event, failure.message, failure.exit_code],
        ['error', 'module no_such_module is not imported in the target', 1],
      );
      assert.equal(failure.type, 'ModuleNotFound');

      await assertShellAppUntouched(target);
    });
  }
});

/**
 * Runs the CLI with `input` on its stdin (a pipe, not a terminal); once its stderr
 * matches `when.stderr`, `when.then` runs (once), e.g. to send it Ctrl-C.
 */
function runCliPiped(
  args: string[],
  opts: { input?: string; when?: { stderr: RegExp; then: (cli: ChildProcess) => void } },
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI_MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let reacted = false;
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (opts.when?.stderr.test(stderr) && !reacted) {
        reacted = true;
        opts.when.then(p);
      }
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), 60000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(opts.input ?? '');
  });
}

const one = discoverPythons().find((p) => p.minor === '3.12') ?? discoverPythons()[0];
test(`one-shot usage errors (exit 2), Ctrl-C, stack -f and stack PID, piped shell input, target exiting (${one.label})`, async (t) => {
  const target = await startTarget(one, 'shell_app.py', [], { progress: /^HANDLED / });
  const other = await startTarget(one, 'dump_known.py');
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-oneshot-'));
  t.after(async () => {
    await Promise.all([target.stop({ expectExited: true }), other.stop()]); // the test ends it
    rmSync(dir, { recursive: true, force: true });
  });
  const pid = String(target.pid);
  // the first attach loads the agent; the parallel runs then all reuse it
  ok(await runCli([pid, '--cmd', 'help']), 'help');
  const runs = await Promise.all([
    runCli([pid, '--cmd', 'frobnicate']),
    runCli([pid, '--cmd', 'watch __main__ handle --bogus']),
    runCli([pid, '--cmd', 'watch __main__ handle -n many']),
    runCli([pid, '--cmd', 'stack --native']),
    runCli([pid, '--cmd', 'help watch']),
    runCli([pid, '--timeout', '2']),
    runCli([pid, '--json', '--cmd', 'help']),
  ]);
  const [unknown, badOption, badValue, native, help, timeoutAlone, jsonHelp] = runs;
  oneLineError(unknown, 2, /^spyglass: unknown command: frobnicate$/);
  oneLineError(badOption, 2, /^spyglass: watch: unknown option --bogus$/);
  oneLineError(badValue, 2, /^spyglass: watch: -n needs an integer, got "many"$/);
  // stack --native works in a one-shot: the agent's own threads wait in C (libc)
  assert.match(ok(native, 'stack --native').stdout, /^ {4}\(C\) \S+ \((\S+:\d+, )?libc\.so\.6\)$/m);
  oneLineError(timeoutAlone, 2, /^spyglass: --timeout only applies with --cmd$/);
  ok(help, 'help watch');
  for (const section of ['USAGE:', 'SUMMARY:', 'EXAMPLES:', 'OPTIONS:']) assert.match(help.stdout, new RegExp(`^${section}$`, 'm'));
  assert.match(help.stdout, /^ {2}watch module \[class\] method /m);
  assert.match(help.stdout, /^-n, --limits <value> +stop after this many shown calls/m);
  const listed = JSON.parse(ok(jsonHelp, 'help --json').stdout) as { commands: Array<{ name: string; summary: string }> };
  for (const name of ['watch', 'trace', 'stack', 'reset', 'help', 'quit'])
    assert.ok(
      listed.commands.some((c) => c.name === name && c.summary),
      name,
    );

  // Ctrl-C ends a one-shot streaming command cleanly, exit 130
  const interrupted = await runCliPiped([pid, '--cmd', 'watch __main__ never_called'], {
    when: { stderr: /Ctrl-C to stop/, then: (cli) => cli.kill('SIGINT') },
  });
  assert.equal(interrupted.code, 130, interrupted.stderr);
  assert.match(interrupted.stderr, /0 call\(s\) shown \(stopped\); hook removed/);

  // stack -f FILE writes what stack prints; stack PID reads another process
  const file = join(dir, 'stack.log');
  const written = ok(await runCli([pid, '--cmd', `stack -f ${file}`]), 'stack -f');
  assert.equal(written.stdout, `Write stack to ${file} successfully!\n`, "the reference tool's words, on stdout");
  const saved = threadsOf(readFileSync(file, 'utf8'));
  assert.ok(saved.get('parked-1')?.includes(`park (${SCRIPT}:${LINES.park})`), [...saved.keys()].join(', '));
  const otherStack = ok(await runCli([pid, '--cmd', `stack ${other.pid}`]), 'stack PID');
  assert.match(otherStack.stdout, new RegExp(`^Process ${other.pid}: Python `));
  assert.deepEqual(new Set(threadsOf(otherStack.stdout).keys()), new Set(['MainThread', 'sleeper-1', 'locals-demo']));

  // the shell reading a pipe: every line runs, in order, each to its own end
  const piped = await runCliPiped([pid], { input: 'watch __main__ handle --expr return_obj -n 1\nhelp reset\nstack\n' });
  assert.equal(piped.code, 0, piped.stderr);
  const at = (re: RegExp) => piped.stdout.search(re);
  assert.ok(at(/'hello n\d+'/) >= 0 && at(/'hello n\d+'/) < at(/^USAGE:\n {2}reset$/m), piped.stdout);
  assert.ok(at(/^USAGE:\n {2}reset$/m) < at(/^Traceback for thread \d+ "parked-1"/m), piped.stdout);
  assert.match(piped.stderr, /1 call\(s\) shown \(limit reached\); hook removed/);
  await assertShellAppUntouched(target);

  // the target exits while a command streams: one line, exit 1
  const orphaned = await runCliPiped([pid, '--cmd', 'watch __main__ never_called'], {
    when: { stderr: /Ctrl-C to stop/, then: () => void target.stop() },
  });
  assert.equal(orphaned.code, 1, orphaned.stderr);
  assert.deepEqual(orphaned.stderr.trimEnd().split('\n').slice(1), [
    `spyglass: process ${pid} exited`,
    '  hint: check the pid with `spyglass ps`',
  ]);
});
