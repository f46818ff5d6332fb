// Help text fits the terminal: `spyglass --help`, each top-level command's --help, and the
// shell's `help` and `help CMD` (every command, built-ins too), at COLUMNS 60, 80 and 200
// and with no COLUMNS on a pipe (80). No line is longer than the width except in the
// examples (printed as written), and text is filled greedily: a line of a paragraph or
// of an item's description ends only where the next word would not have fit, so no
// fragment of a hard wrap written in the source shows. The shell's help does not depend
// on the interpreter: one target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS } from '../../src/commands/registry.js';
import { runCli } from '../helpers/cli.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';

const WIDTHS = [60, 80, 200];
const TOP_LEVEL = ['ps', 'dump', 'attach', 'record', 'top', 'web', 'demo', 'completions'];

const indentOf = (line: string) => line.length - line.trimStart().length;
/** the first word of a line; in a usage line an option in brackets counts as one word */
const firstWord = (line: string) => /^\s*(\[[^\]]*\]|\S+)/.exec(line)?.[1] ?? '';
/** an item's first line holding only its term (its description is on the lines under it) */
const termOnly = (line: string) => !/\S {2,}\S/.test(line.trimStart());

type Kind = 'items' | 'usage' | 'examples' | 'prose';

function kindOf(heading: string): Kind | undefined {
  if (/^(Arguments|Options|Commands|Global Options|OPTIONS|COMMANDS):$/.test(heading)) return 'items';
  if (heading === 'USAGE:') return 'usage';
  if (/^(Examples|EXAMPLES):$/.test(heading)) return 'examples';
  if (/^[A-Z][A-Za-z ]*:$/.test(heading)) return 'prose';
  return undefined;
}

/** Every problem of `text` laid out for `width` columns (empty when it fits). */
function layoutProblems(text: string, width: number): string[] {
  const problems: string[] = [];
  let kind: Kind = 'prose';
  let run: string[] = [];
  const endRun = () => {
    // lines of one paragraph or item: where does a new one start, and which pairs continue one another
    const base = run.length ? indentOf(run[0]) : 0;
    const startsAnew = (line: string, i: number) =>
      i === 0 ||
      ((kind === 'items' || kind === 'usage') && indentOf(line) === base) ||
      (run[0].startsWith('Usage: ') && indentOf(line) === 0);
    for (let i = 1; i < run.length; i++) {
      if (startsAnew(run[i], i)) continue;
      const prev = run[i - 1];
      if (startsAnew(prev, i - 1) && kind === 'items' && termOnly(prev)) continue; // the term, then its description under it
      const word = firstWord(run[i]);
      if (prev.length + 1 + word.length <= width) problems.push(`ragged: "${prev}" could have taken "${word}" (width ${width})`);
    }
    run = [];
  };
  for (const line of text.split('\n')) {
    const heading = kindOf(line);
    if (heading) {
      endRun();
      kind = heading;
      continue;
    }
    if (line.startsWith('Usage: ')) {
      endRun();
      kind = 'prose';
    }
    if (kind === 'examples') continue;
    if (line.length > width) problems.push(`longer than ${width}: "${line}"`);
    if (line.trim() === '') endRun();
    else run.push(line);
  }
  endRun();
  return problems;
}

test('the layout check finds lines too long and hard-wrap fragments, and passes filled text', () => {
  assert.deepEqual(layoutProblems('Usage: x\n\nA paragraph that was\nhard-wrapped short.\n\nOptions:\n  -a  one\n      two', 40), [
    'ragged: "A paragraph that was" could have taken "hard-wrapped" (width 40)',
    'ragged: "  -a  one" could have taken "two" (width 40)',
  ]);
  assert.deepEqual(layoutProblems('SUMMARY:\n  ' + 'word '.repeat(10).trim(), 20), [
    'longer than 20: "  word word word word word word word word word word"',
  ]);
  assert.deepEqual(layoutProblems('Usage: x\n\nOne two three four\nfive six.\n\nExamples:\n  ' + 'long '.repeat(20), 20), []);
});

test('top-level --help at COLUMNS 60, 80, 200, and 80 on a pipe without COLUMNS', async () => {
  for (const width of [...WIDTHS, undefined]) {
    for (const args of [['--help'], ...TOP_LEVEL.map((c) => [c, '--help'])]) {
      const r = await runCli(args, { env: { COLUMNS: width === undefined ? '' : String(width) } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Usage: spyglass /);
      assert.deepEqual(layoutProblems(r.stdout, width ?? 80), [], `spyglass ${args.join(' ')} at ${width ?? 'no'} COLUMNS:\n${r.stdout}`);
    }
  }
  // the examples are kept as written, at every width
  const narrow = await runCli(['record', '--help'], { env: { COLUMNS: '60' } });
  assert.match(narrow.stdout, /^ {2}spyglass record -p 4242 -f speedscope -r 250 {7}# open at https:\/\/www\.speedscope\.app$/m);
});

test("the shell's help and help CMD at COLUMNS 60, 80, 200", async (t) => {
  const py = discoverPythons().find((p) => p.minor === '3.12') ?? discoverPythons()[0];
  const target = await startTarget(py, 'shell_app.py');
  t.after(() => target.stop());
  const topics = ['', ...COMMANDS.map((c) => c.name), 'help', 'quit', 'detach'];
  for (const width of WIDTHS) {
    // one shell per width, reading the help lines from a pipe
    const r = await runCli([String(target.pid)], {
      env: { COLUMNS: String(width) },
      input: topics.map((x) => `help ${x}\n`).join(''),
      timeoutMs: 60000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.match(/^USAGE:$/gm)?.length, COMMANDS.length, r.stdout);
    assert.match(r.stdout, /^COMMANDS:$/m);
    assert.deepEqual(layoutProblems(r.stdout, width), [], `help at ${width} columns:\n${r.stdout}`);
  }
});
