// What the reference tool prints and its own test suite looks for, line by line in
// one-shot mode (`spyglass PID --cmd "..."`), on stdout: "Traceback for thread" in
// `stack`, "(C)" before a native frame, "Write stack to F successfully!", the
// "Async Coroutine/Task Stacks" heading, trace's "thread= tid= daemon= cost=", help's
// NAME/DESCRIPTION columns, `history -n 1` showing itself, gilstat's report headings,
// vmtool's VALUE column and "Gc execute successfully", perf's "Flamegraph data has been
// successfully", `reload --mod M --func F` answering "Reload is done successfully" (and
// "Method source has not changed" when there is nothing new), `stack -a -f`, and `console`
// opening with "RemoteInteractiveConsole" (in one-shot mode its lines come from stdin), and
// torch's "torch profile is not enabled" when the target has no torch. Scripts written
// for the reference tool keep working (docs/reference-words.md).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';

const py = discoverPythons().find((p) => p.minor === '3.12') ?? discoverPythons()[0];
const MOD = (answer: number) => `def test_func():\n    return ${answer}\n`;

describe("the reference tool's words", { concurrency: false }, () => {
  test(`${py.label}: each command prints what scripts for the reference tool look for`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'spyglass-words-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'words_mod.py'), MOD(1));
    const target = await startTarget(py, 'reference_words.py', [], { cwd: dir, env: { PYTHONPATH: dir } });
    t.after(() => target.stop());
    const history = join(dir, 'history');
    const run = async (cmd: string, extra: string[] = [], input?: string, code = 0) => {
      const r = await runCli([String(target.pid), '--cmd', cmd, ...extra], { env: { SPYGLASS_HISTORY: history }, timeoutMs: 60000, input });
      assert.equal(r.code, code, `${cmd}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
      return r.stdout.split('\n');
    };
    const has = (lines: string[], ...words: string[]) =>
      assert.ok(
        lines.some((l) => words.every((w) => l.includes(w))),
        `no line has ${words.join(' + ')}:\n${lines.join('\n')}`,
      );

    has(await run('stack'), 'Traceback for thread', '"MainThread"');
    has(await run('stack --native'), '(C)');
    const file = join(dir, 'stack.log');
    has(await run(`stack -f ${file}`), `Write stack to ${file} successfully!`);
    has(readFileSync(file, 'utf8').split('\n'), 'Traceback for thread');
    const tasks = await run('stack -a');
    has(tasks, 'Async Coroutine/Task Stacks');
    has(tasks, 'WordsTask');
    const taskFile = join(dir, 'tasks.log');
    has(await run(`stack -a -f ${taskFile}`), `Write coroutine stacks to ${taskFile} successfully!`);
    has(await run('trace __main__ A hello -n 1'), 'thread=MainThread', 'tid=', 'daemon=False', 'cost=');
    has(await run('help'), 'NAME', 'DESCRIPTION');
    has(await run('help watch'), 'USAGE');
    has(await run('history -n 1'), 'history -n 1');
    has(await run('vmtool -a getInstances -c __main__ A'), 'VALUE');
    has(await run('vmtool -a forceGc'), 'Gc execute successfully, totally');
    const gil = await run('gilstat on 1 1 1', ['--timeout', '3']);
    has(gil, 'gil statistics report:');
    has(gil, 'gil warning report:');
    const svg = join(dir, 'application.svg');
    has(await run(`perf -d 1 -f ${svg}`), 'Flamegraph data has been successfully');
    // the console in one-shot mode: its banner, then the lines of stdin run in the target
    const consoleOut = await run('console', [], 'print(6 * 7)\nprint(type(instance).__name__)\n');
    has(consoleOut, 'RemoteInteractiveConsole');
    has(consoleOut, '42');
    assert.ok(consoleOut.includes('A'), consoleOut.join('\n'));
    writeFileSync(join(dir, 'words_mod.py'), MOD(2));
    const reloaded = await run('reload --mod words_mod --func test_func');
    has(reloaded, 'Reload is done successfully');
    has(reloaded, 'Located file path:');
    has(reloaded, 'Extracted method source:');
    has(await run('reload words_mod test_func', [], undefined, 1), 'Method source has not changed');
    // a refusal that answers the question (torch is not in this target) is read on stdout too
    has(await run('torch profile __main__ A hello -f t.json', [], undefined, 1), 'torch profile is not enabled');
    has(await run('torch memory -s', [], undefined, 1), 'torch memory snapshot is not enabled');
  });
});
