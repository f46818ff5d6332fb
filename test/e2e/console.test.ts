// console on every interpreter, driven through the command module with a scripted
// terminal (the shell's question/Ctrl-C hooks): expressions and `_`, multi-line
// statements, the target's names and Tab completion of them, tracebacks that stay in the
// console, output that never reaches the target's stdout, input() and help() answered
// from the console, Ctrl-C of a running loop, and
// exit()/quit()/sys.exit()/raise SystemExit/Ctrl-D leaving the console, never the target.
// Then once through the real shell on a terminal (tmux): Tab, Ctrl-C and Ctrl-D as keys.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AgentClient } from '../../src/channel/client.js';
import { consoleCommand } from '../../src/commands/console.js';
import type { CommandContext } from '../../src/commands/types.js';
import type { RenderedNode } from '../../src/channel/protocol.js';
import { CLI_MAIN } from '../helpers/cli.js';
import { commandContext, type CapturedOutput } from '../helpers/command-context.js';
import { startInside, type InsideTarget } from '../helpers/inside.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTmux, type TmuxSession } from '../helpers/tmux.js';

type Complete = (line: string) => Promise<string[]>;

/** A console session on a scripted terminal: type a line, get what it printed. */
class ScriptedConsole {
  readonly out: CapturedOutput;
  readonly done: Promise<void>;
  /** the prompts asked so far ('>>> ' or '... ') */
  readonly prompts: string[] = [];
  private asked?: { resolve: (line: string | undefined) => void; complete?: Complete };
  private wake: Array<() => void> = [];
  private interruptHandler?: () => void;
  private finished = false;

  constructor(t: InsideTarget, client: AgentClient = t.client) {
    const { ctx, out } = commandContext(t.target.pid, { agent: client });
    this.out = out;
    const interactive: NonNullable<CommandContext['interactive']> = {
      question: (prompt, opts) =>
        new Promise((resolve) => {
          this.prompts.push(prompt);
          this.asked = { resolve, complete: opts?.complete };
          this.notify();
        }),
      onInterrupt: (handler) => {
        this.interruptHandler = handler;
        return () => (this.interruptHandler = undefined);
      },
    };
    this.done = consoleCommand.run({ ...ctx, interactive }, []).finally(() => {
      this.finished = true;
      this.notify();
    });
  }

  private notify() {
    for (const w of this.wake.splice(0)) w();
  }

  /** waits until the console asks for a line (true) or has ended (false) */
  private settled(timeoutMs = 20000): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`the console neither prompted nor ended in ${timeoutMs} ms; output: ${this.out.lines.slice(-10).join(' | ')}`)),
        timeoutMs,
      );
      const check = () => {
        if (this.asked || this.finished) {
          clearTimeout(timer);
          resolve(!!this.asked);
        } else this.wake.push(check);
      };
      check();
    });
  }

  /** sends a line (undefined: Ctrl-D) and resolves with the lines printed until the next prompt or the end */
  async type(line: string | undefined): Promise<string[]> {
    assert.ok(await this.settled(), 'the console has ended');
    const start = this.out.lines.length;
    const asked = this.asked!;
    this.asked = undefined;
    asked.resolve(line);
    await this.settled();
    return this.out.lines.slice(start);
  }

  /** Tab: the completions offered for the line typed so far */
  async complete(line: string): Promise<string[]> {
    assert.ok(await this.settled(), 'the console has ended');
    return this.asked!.complete!(line);
  }

  /** resolves once the console has printed this line (while a statement runs) */
  async printed(line: string, timeoutMs = 20000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.out.lines.includes(line)) {
      if (Date.now() > deadline) throw new Error(`the console did not print ${line}; output: ${this.out.lines.slice(-10).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ctrl-C as the shell delivers it while the console runs */
  interrupt(): void {
    assert.ok(this.interruptHandler, 'the console took no Ctrl-C handler');
    this.interruptHandler();
  }
}

async function evalRepr(t: InsideTarget, expr: string): Promise<string> {
  return ((await t.client.call('eval', { expr })) as RenderedNode).repr;
}

/** resolves once the target's ticker has printed another line (it is alive and writing) */
async function nextTick(t: InsideTarget): Promise<void> {
  const last = Math.max(
    ...t.target
      .stdout()
      .split('\n')
      .map((l) => Number(/^TICK (\d+)$/.exec(l)?.[1] ?? -1)),
  );
  await t.target.waitFor(new RegExp(`^TICK ${last + 1}$`));
}

describe('console', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    test(py.label, async () => {
      const t = await startInside(py);
      try {
        const c = new ScriptedConsole(t);
        let lines = await c.type('1 + 2');
        assert.match(
          c.out.lines[0],
          new RegExp(`^Python ${py.version.replace(/\./g, '\\.')}\\S* in process ${t.target.pid} \\(spyglass console`),
        );
        assert.deepEqual(lines, ['3']);
        assert.deepEqual(await c.type('_ * 10'), ['30']);
        // multi-line statements: '... ' until the blank line
        assert.deepEqual(await c.type('def seven(x):'), []);
        assert.deepEqual(await c.type('    return x * 7'), []);
        assert.deepEqual(await c.type(''), []);
        assert.deepEqual(c.prompts.slice(-3), ['... ', '... ', '>>> ']);
        assert.deepEqual(await c.type('seven(6)'), ['42']);
        assert.deepEqual(await c.type('for i in range(3):'), []);
        await c.type('    print("line", i)');
        assert.deepEqual(await c.type(''), ['line 0', 'line 1', 'line 2']);
        // the target's own names, readable and callable
        assert.deepEqual(await c.type("CONFIG['db']['port']"), ['5432']);
        assert.deepEqual(await c.type("SERVICE.process({'id': 1, 'items': [1, 2]})"), ["{'id': 1, 'total': 6}"]);
        // Tab completion of names inside the target (and of the console's own)
        assert.ok((await c.complete('SERV')).includes('SERVICE'));
        assert.ok((await c.complete('x = SERVICE.pro')).includes('x = SERVICE.process('));
        assert.ok((await c.complete('sev')).includes('seven('));
        assert.deepEqual(await c.complete('no_such_name_'), []);
        // an exception: traceback in the console, the console goes on
        lines = await c.type('1 / 0');
        assert.equal(lines[0], 'Traceback (most recent call last):');
        assert.equal(lines.at(-1), 'ZeroDivisionError: division by zero');
        assert.deepEqual(await c.type('seven(1)'), ['7']);
        // output comes back here only; the target's ticker keeps writing to its own stdout
        assert.deepEqual(await c.type("print('CONSOLE-ONLY-1')"), ['CONSOLE-ONLY-1']);
        assert.deepEqual(await c.type("import sys; sys.stderr.write('CONSOLE-ONLY-2\\n')"), ['CONSOLE-ONLY-2', '15']);
        await nextTick(t);
        // Ctrl-C stops a statement that would run forever (sent once it runs)
        assert.deepEqual(await c.type('for i in __import__("itertools").count():'), []);
        assert.deepEqual(await c.type('    if i == 0: print("LOOPING")'), []);
        const running = c.type('');
        await c.printed('LOOPING');
        c.interrupt();
        lines = await running;
        assert.equal(lines.at(-1), 'KeyboardInterrupt');
        assert.deepEqual(await c.type("'still here'"), ["'still here'"]);
        // input() and help() read their lines from the console, not the target's stdin
        assert.deepEqual(await c.type("name = input('Name: ')"), []);
        assert.equal(c.prompts.at(-1), 'Name: ');
        assert.deepEqual(await c.type('Ada'), []);
        assert.deepEqual(await c.type('name'), ["'Ada'"]);
        await c.type("input('more? ')");
        lines = await c.type(undefined); // Ctrl-D there: EOFError, as at the end of a file
        assert.deepEqual([lines.at(-1), c.prompts.at(-1)], ['EOFError: EOF when reading a line', '>>> ']);
        await c.type('help()');
        assert.equal(c.prompts.at(-1), 'help> ');
        assert.match((await c.type('len')).join('\n'), /len\(obj, \/\)/);
        await c.type('quit');
        assert.deepEqual(await c.type('seven(3)'), ['21']);
        // exit() leaves the console, not the target
        assert.deepEqual(await c.type('exit()'), []);
        await c.done;
        assert.ok(
          c.out.notes.some((n) => n === `left the console (exit()); process ${t.target.pid} keeps running`),
          c.out.notes.join('|'),
        );

        // every other way out: quit(), sys.exit(3), raise SystemExit, Ctrl-D
        for (const [line, reason] of [
          ['quit()', 'exit()'],
          ['import sys; sys.exit(3)', 'exit(3)'],
          ['raise SystemExit', 'exit()'],
          [undefined, 'eof'],
        ] as const) {
          const again = new ScriptedConsole(t);
          await again.type(line);
          await again.done;
          assert.ok(
            again.out.notes.some((n) => n.startsWith(`left the console (${reason})`)),
            `${line}: ${again.out.notes.join('|')}`,
          );
        }
        // a client that dies while its console runs a loop: the loop is stopped, the console closed
        const doomed = await t.target.connect();
        const orphan = new ScriptedConsole(t, doomed);
        await orphan.type('for i in __import__("itertools").count():');
        await orphan.type('    if i == 0: print("ORPHAN-LOOPING")');
        void orphan.type('').catch(() => undefined);
        await orphan.printed('ORPHAN-LOOPING');
        doomed.close();
        await orphan.done.catch(() => undefined);
        const consoles = 'len([x for x in __import__("threading").enumerate() if x.name.startswith("spyglass-console")])';
        for (let i = 0; i < 100 && (await evalRepr(t, consoles)) !== '0'; i++) await new Promise((r) => setTimeout(r, 100));
        assert.equal(await evalRepr(t, consoles), '0');
        // the target lives on, its streams are its own again, and nothing typed leaked
        await nextTick(t);
        assert.ok(t.target.alive());
        assert.equal(
          await evalRepr(t, '[type(s).__name__ for s in (sys.stdin, sys.stdout, sys.stderr)]'),
          "['TextIOWrapper', 'TextIOWrapper', 'TextIOWrapper']",
        );
        assert.doesNotMatch(t.target.stdout(), /CONSOLE-ONLY|line 0|still here|LOOPING/);
        assert.equal(t.target.stderr(), '');
      } finally {
        await t.stop();
      }
    });
  }
});

/** the screen from `since` on ends with this prompt line (the terminal drops trailing blanks) */
function endsWith(prompt: string) {
  return (screen: string) => screen.split('\n').at(-1) === prompt.trimEnd();
}

async function enter(shell: TmuxSession, line: string, prompt: string, expect: RegExp): Promise<string> {
  const since = await shell.mark();
  await shell.type(line);
  await shell.send('Enter');
  return shell.waitFor((s) => expect.test(s) && endsWith(prompt)(s), { since });
}

describe('console in the shell on a terminal', () => {
  const py = discoverPythons().find((p) => p.minor === '3.12') ?? discoverPythons()[0];
  test(`${py.label}: Tab, Ctrl-C and Ctrl-D as keys`, async () => {
    // the agent is loaded already: the shell's attach reuses it
    const t = await startInside(py);
    let shell: TmuxSession | undefined;
    try {
      const pid = t.target.pid;
      const shellPrompt = `spyglass ${pid}> `;
      shell = await startTmux([process.execPath, CLI_MAIN, String(pid)], { env: { NO_COLOR: '1', SPYGLASS_HISTORY: '/dev/null' } });
      await shell.waitFor(endsWith(shellPrompt), { timeoutMs: 30000 });
      await enter(shell, 'console', '>>> ', /spyglass console/);
      // Tab completes a name of the target inside the console's line
      let since = await shell.mark();
      await shell.type('SERVICE.pro');
      await shell.send('Tab');
      await shell.waitFor((s) => s.split('\n').at(-1) === '>>> SERVICE.process(', { since });
      await enter(shell, "{'id': 2, 'items': [1, 2]})", '>>> ', /^\{'id': 2, 'total': 6\}$/m);
      // Ctrl-C stops the statement and stays in the console
      await enter(shell, 'for i in __import__("itertools").count():', '... ', /\.\.\./);
      await enter(shell, '    if i == 0: print("LOOPING")', '... ', /\.\.\./);
      since = await shell.mark();
      await shell.send('Enter');
      await shell.waitFor(/^LOOPING$/m, { since });
      await shell.send('C-c');
      await shell.waitFor((s) => /KeyboardInterrupt/.test(s) && endsWith('>>> ')(s), { since });
      await enter(shell, '6 * 7', '>>> ', /^42$/m);
      // Ctrl-D leaves the console, back to the shell, whose commands still work
      since = await shell.mark();
      await shell.send('C-d');
      await shell.waitFor(
        (s) => new RegExp(`left the console \\(eof\\); process ${pid} keeps running`).test(s) && endsWith(shellPrompt)(s),
        { since },
      );
      await enter(shell, 'getglobal __main__ Order kind', shellPrompt, /'plain'/);
      // exit() typed in a second console: the same
      await enter(shell, 'console', '>>> ', /spyglass console/);
      await enter(shell, 'exit()', shellPrompt, /left the console \(exit\(\)\)/);
      assert.ok(t.target.alive());
      await nextTick(t);
      assert.doesNotMatch(t.target.stdout(), /'total': 6/);
    } finally {
      await shell?.kill();
      await t.stop();
    }
  });
});
