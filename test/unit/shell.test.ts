// The shell's parts without a target: completion (which words are module/class/method
// slots, what is asked from the agent, which kinds are offered), help layout, history
// file, built-in commands, and the line loop reading a pipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { COMMANDS, findCommand } from '../../src/commands/registry.js';
import type { AgentSession } from '../../src/channel/session.js';
import type { ShellCommand } from '../../src/commands/types.js';
import { UsageError } from '../../src/errors.js';
import { complete } from '../../src/shell/complete.js';
import { moduleSlots, positionalWords } from '../../src/shell/complete-names.js';
import { runLine } from '../../src/shell/dispatch.js';
import { renderCommandHelp } from '../../src/shell/help.js';
import { HISTORY_MAX, appendHistory, loadHistory } from '../../src/shell/history.js';
import { runShell } from '../../src/shell/shell.js';
import { commandContext } from '../helpers/command-context.js';

const TARGET_NAMES: Record<string, Array<{ name: string; kind: string }>> = {
  '': [
    { name: '__main__', kind: 'module' },
    { name: 'app', kind: 'module' },
  ],
  __main__: [
    { name: 'Shop', kind: 'class' },
    { name: 'checkout', kind: 'function' },
    { name: 'TOTAL', kind: 'value' },
    { name: 'os', kind: 'module' },
  ],
  '__main__.Shop': [
    { name: 'buy', kind: 'function' },
    { name: 'rate', kind: 'value' },
  ],
};

/** An agent that answers complete_names from TARGET_NAMES and records what it was asked. */
function namesAgent(asked: Array<Record<string, unknown>>): AgentSession {
  return {
    request() {
      throw new Error('completion streams nothing');
    },
    async call(cmd, args) {
      assert.equal(cmd, 'complete_names');
      asked.push(args);
      const key = [args.module, args.cls].filter(Boolean).join('.');
      return { names: (TARGET_NAMES[key] ?? []).filter((n) => n.name.startsWith(String(args.prefix))) };
    },
  };
}

async function candidates(line: string, asked: Array<Record<string, unknown>> = []): Promise<string[]> {
  const { ctx } = commandContext(1, { agent: namesAgent(asked) });
  return (await complete(line, COMMANDS, ctx))[0];
}

const cmd = (name: string): ShellCommand => {
  const c = findCommand(name);
  assert.ok(c, name);
  return c;
};

test('module/class/method slots are read from each usage line', () => {
  const words = (name: string) => moduleSlots(cmd(name)).map((alt) => alt.map((s) => (s.optional ? `[${s.word}]` : s.word)).join(' '));
  assert.deepEqual(words('watch'), ['module [class] method']);
  assert.deepEqual(words('trace'), ['module [class] method']);
  assert.deepEqual(words('getglobal'), ['module [class] field']);
  assert.deepEqual(words('tt'), ['module [class] method']);
  assert.deepEqual(words('vmtool'), ['module class']);
  assert.deepEqual(words('stack'), []);
  assert.deepEqual(words('console'), []);
  assert.deepEqual(positionalWords(['-n', '5', '__main__', '-e', 'Shop', '--expr=x'], cmd('watch').options), ['__main__', 'Shop']);
});

test("Tab offers commands, options, option values, and the target's names by kind", async () => {
  assert.deepEqual(await candidates('wat'), ['watch']);
  assert.deepEqual(await candidates('help tr'), ['trace']);
  assert.deepEqual(await candidates('watch --ex'), ['--exception', '--expand', '--expr']);
  assert.deepEqual(await candidates('vmtool -a '), ['forceGc', 'getInstances']);
  // a command's forms, read from its usage line; then the form's own words
  assert.deepEqual(await candidates('gilstat '), ['off', 'on']);
  assert.deepEqual(await candidates('mem '), ['diff', 'refs', 'summary', 'top']);
  assert.deepEqual(await candidates('mem s'), ['summary']);
  assert.deepEqual(await candidates('torch '), ['memory', 'profile']);
  assert.deepEqual(await candidates('torch profile __m'), ['__main__']);
  const asked: Array<Record<string, unknown>> = [];
  assert.deepEqual(await candidates('watch __m', asked), ['__main__']);
  assert.deepEqual(asked.at(-1), { prefix: '__m' });
  // a method slot: classes and functions, not values or modules
  assert.deepEqual(await candidates('watch -n 5 __main__ ', asked), ['Shop', 'checkout']);
  assert.deepEqual(asked.at(-1), { module: '__main__', prefix: '' });
  assert.deepEqual(await candidates('watch __main__ Shop ', asked), ['buy']);
  assert.deepEqual(asked.at(-1), { module: '__main__', cls: 'Shop', prefix: '' });
  // a field slot takes values too; a class slot only classes
  assert.deepEqual(await candidates('getglobal __main__ '), ['Shop', 'TOTAL', 'checkout']);
  assert.deepEqual(await candidates('getglobal __main__ Shop '), ['buy', 'rate']);
  assert.deepEqual(await candidates('vmtool -a getInstances -c __main__ '), ['Shop']);
  assert.deepEqual(await candidates('tt -t __main__ ch'), ['checkout']);
  // after a function (not a class) there is nothing more to offer
  assert.deepEqual(await candidates('watch __main__ checkout '), []);
  // nothing is asked where no name belongs: an option's value, past the method, other commands
  const before = asked.length;
  assert.deepEqual(await candidates('watch -n ', asked), []);
  assert.deepEqual(await candidates('watch __main__ Shop buy ', asked), []);
  assert.deepEqual(await candidates('stack ', asked), []);
  assert.equal(asked.length, before);
});

test('a failing lookup offers nothing instead of an error', async () => {
  const { ctx } = commandContext(1, {
    agent: {
      request() {
        throw new Error('no');
      },
      call: () => Promise.reject(new Error('the agent went away')),
    },
  });
  assert.deepEqual(await complete('watch __m', COMMANDS, ctx), [[], '__m']);
});

test('help CMD: usage, summary, description, examples and options; defaults said once', () => {
  const fake: ShellCommand = {
    name: 'demo',
    summary: 'Does a demo.',
    description: 'How it works.\n\nIn two paragraphs.',
    usage: 'demo thing [-n <value>] [-x <value>]',
    examples: [{ command: 'demo a', comment: 'one' }],
    options: [
      { names: ['-n', '--limits'], key: 'n', kind: 'int', default: 10, description: 'how many (default 10)' },
      { names: ['-x'], key: 'x', kind: 'int', default: 1, description: 'how deep' },
    ],
    run: async () => undefined,
  };
  const text = renderCommandHelp(fake);
  assert.equal(
    text,
    [
      'USAGE:',
      '  demo thing [-n <value>] [-x <value>]',
      '',
      'SUMMARY:',
      '  Does a demo.',
      '',
      '  How it works.',
      '',
      '  In two paragraphs.',
      '',
      'EXAMPLES:',
      '  demo a   # one',
      '',
      'OPTIONS:',
      `${'-n, --limits <value>'.padEnd(34)} how many (default 10)`,
      `${'-x <value>'.padEnd(34)} how deep (default: 1)`,
    ].join('\n'),
  );
});

test('history: each line appended (two shells at once keep both), newest first, each once, capped, private', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-history-'));
  try {
    const file = join(dir, 'h');
    assert.deepEqual(loadHistory(file), []);
    // two shells started from the same file, typing in turn
    for (const line of ['a1', 'b1', 'a2', 'b2', 'a1', '  ']) appendHistory(line, file);
    assert.equal(readFileSync(file, 'utf8'), 'a1\nb1\na2\nb2\na1\n');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadHistory(file), ['a1', 'b2', 'a2', 'b1']);
    // grown to twice the cap: cut back to the newest HISTORY_MAX on the next load
    writeFileSync(file, Array.from({ length: 2 * HISTORY_MAX + 5 }, (_, i) => `l${i}\n`).join(''));
    const h = loadHistory(file);
    assert.equal(h.length, HISTORY_MAX);
    assert.equal(h[0], `l${2 * HISTORY_MAX + 4}`);
    const kept = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    assert.deepEqual([kept.length, kept[0]], [HISTORY_MAX, `l${HISTORY_MAX + 5}`]);
    assert.deepEqual(readdirSync(dir), ['h'], 'nothing left beside it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('built-ins: quit, exit and detach leave; help; CMD -h; unknown command is a usage error', async () => {
  const { ctx, out } = commandContext(1);
  for (const w of ['quit', 'exit', 'detach']) assert.equal(await runLine(ctx, w), 'quit');
  assert.equal(await runLine(ctx, '   '), 'continue');
  await assert.rejects(runLine(ctx, 'quit now'), UsageError);
  await assert.rejects(
    runLine(ctx, 'frobnicate'),
    (e: unknown) => e instanceof UsageError && /unknown command: frobnicate/.test(e.message),
  );
  await assert.rejects(
    runLine(ctx, 'wtach __main__ f'),
    (e: unknown) => e instanceof UsageError && /did you mean watch\?/.test(e.hint ?? ''),
  );
  await assert.rejects(runLine(ctx, 'help frobnicate'), UsageError);
  assert.equal(await runLine(ctx, 'watch -h'), 'continue');
  assert.match(out.lines.at(-1)!, /^USAGE:\n {2}watch module/);
  assert.equal(await runLine(ctx, 'help'), 'continue');
  for (const c of COMMANDS) assert.match(out.lines.at(-1)!, new RegExp(`^ {2}${c.name} `, 'm'));
});

test('the shell reading a pipe runs every line in order, then ends at end of input', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  const { out } = commandContext(1);
  input.end('help reset\n\nfrobnicate\nhelp quit\n');
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-history-'));
  const saved = process.env.SPYGLASS_HISTORY;
  process.env.SPYGLASS_HISTORY = join(dir, 'h');
  try {
    await runShell({ pid: 1, agent: namesAgent([]), out, input, output });
  } finally {
    // restored, not deleted: later tests in this process would write the user's history
    if (saved === undefined) delete process.env.SPYGLASS_HISTORY;
    else process.env.SPYGLASS_HISTORY = saved;
    rmSync(dir, { recursive: true, force: true });
  }
  assert.match(out.lines[0], /^USAGE:\n {2}reset$/m);
  assert.match(out.notes[0], /unknown command: frobnicate/);
  assert.match(out.lines[1], /^Leave the shell/);
  assert.equal(out.lines.length, 2);
});

test('history lists the saved lines most recent last (-n, default 20), -c empties them; cls clears a terminal only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-history-'));
  const saved = process.env.SPYGLASS_HISTORY;
  process.env.SPYGLASS_HISTORY = join(dir, 'history');
  try {
    const typed = Array.from({ length: 25 }, (_, i) => `watch __main__ f${i} -n 1`);
    for (const line of [...typed, 'stack', 'stack', 'history']) appendHistory(line);
    let { ctx, out } = commandContext(1);
    await runLine(ctx, 'history');
    // the default 20, oldest first, numbered over the whole file, repeats kept as typed
    assert.equal(out.lines.length, 20);
    assert.deepEqual(
      out.lines.slice(-3).map((l) => l.trim()),
      ['26  stack', '27  stack', '28  history'],
    );
    assert.equal(out.lines[0].trim(), '9  watch __main__ f8 -n 1');
    assert.deepEqual((out.records[0].history as Array<{ n: number; line: string }>).at(-1), { n: 28, line: 'history' });
    ({ ctx, out } = commandContext(1));
    await runLine(ctx, 'history --limits 2');
    assert.deepEqual(
      out.lines.map((l) => l.trim()),
      ['27  stack', '28  history'],
    );
    await assert.rejects(runLine(ctx, 'history -n 0'), /history: -n must be at least 1 \(got 0\)/);
    await assert.rejects(runLine(ctx, 'history now'), /history takes no words/);
    // -c empties the file and the prompt's recall list
    let forgot = 0;
    ({ ctx, out } = commandContext(1));
    await runLine({ ...ctx, interactive: { question: async () => undefined, clearHistory: () => void forgot++ } }, 'history -c');
    assert.deepEqual([forgot, readFileSync(process.env.SPYGLASS_HISTORY, 'utf8'), out.lines], [1, '', ['history cleared']]);
    ({ ctx, out } = commandContext(1));
    await runLine(ctx, 'history');
    assert.deepEqual(out.lines, []);
    // cls: the erase sequence on a terminal, nothing on a pipe or with --json
    const { createOutput } = await import('../../src/shell/output.js');
    for (const [isTTY, json, expect] of [
      [true, false, '\x1b[H\x1b[2J\x1b[3J'],
      [false, false, ''],
      [true, true, ''],
    ] as const) {
      let written = '';
      const stdout = Object.assign(new PassThrough(), { isTTY });
      stdout.on('data', (d) => (written += d));
      const o = createOutput({ json, color: false }, { stdout, stderr: new PassThrough() });
      await runLine({ ...commandContext(1).ctx, out: o }, 'cls');
      await new Promise((r) => setImmediate(r));
      assert.equal(written, expect, `isTTY=${isTTY} json=${json}`);
    }
  } finally {
    if (saved === undefined) delete process.env.SPYGLASS_HISTORY;
    else process.env.SPYGLASS_HISTORY = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a browser's shell (ownsProcess: false) adds no SIGINT listener, so the server's Ctrl-C never reaches its command; a Ctrl-C typed in it stops it", async () => {
  let cancelled = 0;
  let started!: () => void;
  const watching = new Promise<void>((r) => (started = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  // a watch that streams until it is cancelled, as the agent's does
  const agent: AgentSession = {
    request(cmd) {
      assert.equal(cmd, 'watch');
      return {
        endData: { shown: 0, reason: 'stopped' },
        cancel() {
          cancelled++;
          release();
        },
        async *[Symbol.asyncIterator]() {
          yield { event: 'started', data: { method: '__main__.f', file: 'app.py', line: 3 } };
          started();
          await released;
        },
      };
    },
    async call() {
      throw new Error('nothing is called');
    },
  };
  const input = new PassThrough();
  const output = Object.assign(new PassThrough(), { isTTY: true, columns: 80, rows: 24 });
  output.resume();
  const before = process.listenerCount('SIGINT');
  const { out } = commandContext(1);
  const shell = runShell({ pid: 1, agent, out, input, output, ownsProcess: false });
  input.write('watch __main__ f\r');
  await watching;
  assert.equal(process.listenerCount('SIGINT'), before, 'no process-wide SIGINT listener');
  assert.equal(cancelled, 0);
  input.write('\x03');
  await released;
  assert.equal(cancelled, 1);
  input.end();
  await shell;
  assert.equal(process.listenerCount('SIGINT'), before);
});
