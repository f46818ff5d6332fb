// The interactive shell on a real terminal (tmux), against test/targets/shell_app.py, on
// three interpreters (the shell is the same program on all; the one-shot test covers
// every interpreter): the prompt, `help` and `help CMD`, Tab completion of commands,
// options, option values and the target's module/class/method names, Ctrl-C stopping a
// running watch and not the shell, `stack`, history kept between runs, `history` (-n,
// -c) and `cls`, and quit / Ctrl-D
// leaving with the target still running its original code.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS } from '../../src/commands/registry.js';
import { discoverPythons, type Interpreter } from '../helpers/pythons.js';
import { markerLines, startTarget, TARGETS_DIR } from '../helpers/targets.js';
import { CLI_MAIN } from '../helpers/cli.js';
import { assertShellAppUntouched } from '../helpers/shell-app.js';
import { startTmux, type TmuxSession } from '../helpers/tmux.js';

const SCRIPT = join(TARGETS_DIR, 'shell_app.py');
const PARK_LINE = markerLines(SCRIPT).park;

const WANTED = ['3.8', '3.11', '3.13'];
const pythons = WANTED.map((m) => discoverPythons().find((p) => p.minor === m)).filter((p): p is Interpreter => p !== undefined);

/** The shell's prompt line, as the terminal shows it once trailing blanks are dropped. */
function promptLine(pid: number, typed = ''): string {
  return `spyglass ${pid}> ${typed}`.trimEnd();
}

/** Types a line, presses Enter, and waits for its output up to the next prompt. */
async function command(shell: TmuxSession, pid: number, line: string, expect: RegExp): Promise<string> {
  const since = await shell.mark();
  await shell.type(line);
  await shell.send('Enter');
  return shell.waitFor((s) => expect.test(s) && s.split('\n').at(-1) === promptLine(pid), { since });
}

/** Types `text`, presses Tab (twice to list the candidates), and waits for what the terminal then shows. */
async function tab(shell: TmuxSession, text: string, times: 1 | 2, expect: (screen: string) => boolean): Promise<string> {
  const since = await shell.mark();
  await shell.type(text);
  await shell.send('Tab');
  if (times === 2) {
    // the second Tab lists only when it comes after the first one's (asynchronous) answer,
    // which shows nothing when there is no common prefix to add: give it time
    await new Promise((r) => setTimeout(r, 700));
    await shell.send('Tab');
  }
  return shell.waitFor(expect, { since });
}

async function clearLine(shell: TmuxSession, pid: number): Promise<void> {
  await shell.send('C-e', 'C-u');
  await shell.waitFor((s) => s.split('\n').at(-1) === promptLine(pid));
}

describe('the interactive shell on a terminal', { concurrency: true }, () => {
  for (const py of pythons) {
    test(`${py.label}: help, completion, Ctrl-C, stack, history, quit and Ctrl-D`, async (t) => {
      const target = await startTarget(py, 'shell_app.py', [], { progress: /^HANDLED / });
      const home = mkdtempSync(join(tmpdir(), 'spyglass-shell-'));
      const historyFile = join(home, 'history');
      const sessions: TmuxSession[] = [];
      t.after(async () => {
        for (const s of sessions) await s.kill();
        await target.stop();
        rmSync(home, { recursive: true, force: true });
      });
      const pid = target.pid;
      const open = async (argv: string[]) => {
        const s = await startTmux([process.execPath, CLI_MAIN, ...argv], { env: { SPYGLASS_HISTORY: historyFile, NO_COLOR: '1' } });
        sessions.push(s);
        await s.waitFor(new RegExp(`attached to process ${pid} \\(Python ${py.version.replace(/\./g, '\\.')}\\) in \\d+ ms`), {
          timeoutMs: 30000,
        });
        await s.waitFor((screen) => screen.split('\n').at(-1) === promptLine(pid));
        return s;
      };

      // ---- first run: `spyglass PID`
      const shell = await open([String(pid)]);

      const list = await command(shell, pid, 'help', /Type `help COMMAND`/);
      for (const c of COMMANDS)
        assert.match(list, new RegExp(`^  ${c.name} +${c.summary.slice(0, 20).replace(/[.*+?^${}()|[\]\\`]/g, '\\$&')}`, 'm'));
      for (const b of ['help', 'quit', 'detach']) assert.match(list, new RegExp(`^  ${b} +\\S`, 'm'));

      const watchHelp = await command(shell, pid, 'help watch', /OPTIONS:[\s\S]*-v, --verbose/);
      assert.match(watchHelp, /^USAGE:\n {2}watch module \[class\] method /m);
      assert.match(watchHelp, /^SUMMARY:\n {2}\S/m);
      assert.match(watchHelp, /^EXAMPLES:\n {2}watch __main__ /m);
      assert.match(watchHelp, /^-n, --limits <value> +stop after this many shown calls/m);

      // completion: command, module, class, method, options, option values
      const last = (s: string) => s.split('\n').at(-1) ?? '';
      const shows = (typed: string) => (s: string) => last(s) === promptLine(pid, typed);
      await tab(shell, 'wat', 1, shows('watch'));
      await tab(shell, ' __ma', 1, shows('watch __main__'));
      await tab(shell, ' Gre', 1, shows('watch __main__ Greeter'));
      await tab(shell, ' gr', 1, shows('watch __main__ Greeter greet'));
      await clearLine(shell, pid);
      // the names a method slot takes: classes and functions, not plain values or modules
      const names = await tab(
        shell,
        'watch __main__ ',
        2,
        (s) => /\bnever_called\b/.test(s) && last(s) === promptLine(pid, 'watch __main__'),
      );
      for (const n of ['Greeter', 'handle', 'codes_restored', 'park']) assert.match(names, new RegExp(`\\b${n}\\b`));
      for (const n of ['ORIGINAL_CODE', 'threading', 'never ']) assert.ok(!names.includes(n), `${n} offered for a method: ${names}`);
      await clearLine(shell, pid);
      await tab(shell, 'watch --ex', 1, shows('watch --ex'));
      const options = await tab(shell, '', 2, (s) => /--exception +--expand +--expr/.test(s));
      assert.ok(options.includes('--exception'));
      await clearLine(shell, pid);
      await tab(shell, 'vmtool -a getI', 1, shows('vmtool -a getInstances'));
      await clearLine(shell, pid);

      // Ctrl-C stops a watch that is waiting for calls, and the shell stays
      let since = await shell.mark();
      await shell.type('watch __main__ never_called -n 5');
      await shell.send('Enter');
      await shell.waitFor(/Ctrl-C to stop/, { since });
      await shell.send('C-c');
      await shell.waitFor((s) => /0 call\(s\) shown \(stopped\); hook removed/.test(s) && last(s) === promptLine(pid), { since });
      // ... and one that is streaming calls
      since = await shell.mark();
      await shell.type('watch __main__ handle --expr return_obj -n 100000');
      await shell.send('Enter');
      await shell.waitFor(/'hello n\d+'[\s\S]*'hello n\d+'/, { since });
      await shell.send('C-c');
      await shell.waitFor((s) => /\d+ call\(s\) shown \(stopped\); hook removed/.test(s) && last(s) === promptLine(pid), { since });
      // Ctrl-C at the prompt drops the half-typed line (the next command runs as typed)
      since = await shell.mark();
      await shell.type('half typed');
      await shell.waitFor((s) => last(s) === promptLine(pid, 'half typed'), { since });
      await shell.send('C-c');
      await shell.waitFor((s) => s.split('\n').includes(promptLine(pid, '^C')) && last(s) === promptLine(pid), { since });

      // stack in the shell: the target's threads and their known frames
      const stack = await command(shell, pid, 'stack', /Traceback for thread \d+ "MainThread"/);
      assert.match(stack, new RegExp(`^Process ${pid}: Python ${py.version.replace(/\./g, '\\.')} `, 'm'));
      for (const name of ['parked-1', 'parked-2', 'caller']) assert.match(stack, new RegExp(`^Traceback for thread \\d+ "${name}"`, 'm'));
      assert.ok(stack.includes(`park (${SCRIPT}:${PARK_LINE})`), stack);

      // a user error is one line (and a hint), and the shell goes on
      const bad = await command(shell, pid, 'watch __main__ no_such_function', /no_such_function/);
      assert.match(bad, /^spyglass: module __main__ has no function no_such_function$/m);

      since = await shell.mark();
      await shell.type('quit');
      await shell.send('Enter');
      assert.equal(await shell.waitForExit(), 0);
      await assertShellAppUntouched(target);
      const saved = readFileSync(historyFile, 'utf8').split('\n');
      assert.deepEqual(saved.slice(-4), ['stack', 'watch __main__ no_such_function', 'quit', '']);
      assert.ok(saved.includes('help watch'));

      // ---- second run: `spyglass attach PID`; history from the first; Ctrl-D during a watch
      const again = await open(['attach', String(pid)]);
      await again.send('Up');
      await again.waitFor((s) => last(s) === promptLine(pid, 'quit'));
      await again.send('Up');
      await again.waitFor((s) => last(s) === promptLine(pid, 'watch __main__ no_such_function'));
      await clearLine(again, pid);
      // `history`: the saved lines, most recent last, itself included; `cls` clears the screen
      const listed = await command(again, pid, 'history -n 3', /^ +\d+ {2}history -n 3$/m);
      assert.deepEqual(
        listed
          .split('\n')
          .slice(-4, -1)
          .map((l) => l.replace(/^ +\d+ {2}/, '')),
        ['watch __main__ no_such_function', 'quit', 'history -n 3'],
      );
      await again.type('cls');
      await again.send('Enter');
      await again.waitFor((s) => s.trim() === promptLine(pid));
      // -c empties the file and what the arrow keys recall
      await command(again, pid, 'history -c', /^history cleared$/m);
      assert.equal(readFileSync(historyFile, 'utf8'), '');
      await again.send('Up');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(last(await again.screen()), promptLine(pid));
      since = await again.mark();
      await again.type('watch __main__ handle --expr return_obj -n 100000');
      await again.send('Enter');
      await again.waitFor(/'hello n\d+'/, { since });
      await again.send('C-d');
      assert.equal(await again.waitForExit(), 0);
      await assertShellAppUntouched(target);
    });
  }
});

const lastPython = pythons.at(-1);
test(`the target exits under the shell: one line, exit 1 (${lastPython?.label})`, { skip: !lastPython }, async (t) => {
  const target = await startTarget(lastPython!, 'shell_app.py', [], { progress: /^HANDLED / });
  const home = mkdtempSync(join(tmpdir(), 'spyglass-shell-'));
  const shell = await startTmux([process.execPath, CLI_MAIN, String(target.pid)], {
    env: { SPYGLASS_HISTORY: join(home, 'history'), NO_COLOR: '1' },
  });
  t.after(async () => {
    await shell.kill();
    await target.stop({ expectExited: true }); // the test ends it
    rmSync(home, { recursive: true, force: true });
  });
  await shell.waitFor((s) => s.split('\n').at(-1) === promptLine(target.pid), { timeoutMs: 30000 });
  await shell.type('watch __main__ never_called');
  await shell.send('Enter');
  await shell.waitFor(/Ctrl-C to stop/);
  await target.stop();
  assert.equal(await shell.waitForExit(), 1);
  const screen = await shell.screen();
  const after = screen
    .slice(screen.indexOf('Ctrl-C to stop'))
    .split('\n')
    .slice(1)
    .filter((l) => l && !l.startsWith('Pane is dead'));
  assert.deepEqual(after, [`spyglass: process ${target.pid} exited`, '  hint: check the pid with `spyglass ps`']);
});
