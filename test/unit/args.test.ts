import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locationOptions, parseArgs, parseMethodTarget, tokenize, type OptionSpec } from '../../src/commands/args.js';
import { UsageError } from '../../src/errors.js';

const WATCH: OptionSpec[] = [
  { names: ['--expr'], key: 'expr', kind: 'string', default: 'args,kwargs', description: '' },
  { names: ['-nm', '--nested-method'], key: 'nested', kind: 'string', description: '' },
  { names: ['-e'], key: 'exception', kind: 'flag', default: false, description: '' },
  { names: ['-n', '--limits'], key: 'limit', kind: 'int', default: 10, description: '' },
  { names: ['-x', '--expand'], key: 'expand', kind: 'int', default: 1, min: 1, max: 4, description: '' },
  { names: ['-f', '--filter'], key: 'filter', kind: 'string', description: '' },
];

test('tokenize keeps quoted expressions whole', () => {
  assert.deepEqual(tokenize(`watch __main__ func -f "args[0][\\"query\\"]=='hello'"`), [
    'watch',
    '__main__',
    'func',
    '-f',
    `args[0]["query"]=='hello'`,
  ]);
  assert.deepEqual(tokenize(`a 'b c'  d\\ e ""`), ['a', 'b c', 'd e', '']);
  assert.throws(() => tokenize('watch "open'), UsageError);
});

test('parseArgs reads multi-letter short options, defaults, = values and negative numbers', () => {
  const r = parseArgs('watch', tokenize('__main__ A m -nm inner -e -x 2 --expr=return_obj -n -1'), WATCH);
  assert.deepEqual(r.positionals, ['__main__', 'A', 'm']);
  assert.equal(r.options.nested, 'inner');
  assert.equal(r.options.exception, true);
  assert.equal(r.options.expand, 2);
  assert.equal(r.options.expr, 'return_obj');
  assert.equal(r.options.limit, -1);
  assert.equal(parseArgs('watch', ['m', 'f'], WATCH).options.limit, 10);
});

test('parseArgs rejects unknown options, missing values and out-of-range numbers with one line', () => {
  assert.throws(() => parseArgs('watch', ['m', 'f', '--bogus'], WATCH), /unknown option --bogus/);
  assert.throws(() => parseArgs('watch', ['m', 'f', '-n'], WATCH), /needs a value/);
  assert.throws(() => parseArgs('watch', ['m', 'f', '-x', '9'], WATCH), /between 1 and 4/);
  assert.throws(() => parseArgs('watch', ['m', 'f', '-n', 'ten'], WATCH), /an integer/);
});

test('parseMethodTarget maps 2 or 3 words to module [class] method', () => {
  assert.deepEqual(parseMethodTarget('watch', ['m', 'f']), { module: 'm', method: 'f' });
  assert.deepEqual(parseMethodTarget('watch', ['m', 'C', 'f']), { module: 'm', cls: 'C', method: 'f' });
  assert.throws(() => parseMethodTarget('watch', ['m']), /module \[class\] method/);
});

test("parseMethodTarget takes the reference's --mod/--pkg, --cls, --func (--var) in place of words", () => {
  const parse = (line: string, last: 'func' | 'var' = 'func') => {
    const { positionals, options } = parseArgs('watch', tokenize(line), [...WATCH, ...locationOptions(last)]);
    return parseMethodTarget('watch', positionals, options, last);
  };
  assert.deepEqual(parse('--pkg m --cls C --func f'), { module: 'm', cls: 'C', method: 'f' });
  assert.deepEqual(parse('--mod m --func f -n 3'), { module: 'm', method: 'f' });
  assert.deepEqual(parse('m --cls C --func f'), { module: 'm', cls: 'C', method: 'f' });
  assert.deepEqual(parse('m C --func f'), { module: 'm', cls: 'C', method: 'f' });
  assert.deepEqual(parse('m --func f'), { module: 'm', method: 'f' });
  assert.deepEqual(parse('m C f'), { module: 'm', cls: 'C', method: 'f' });
  assert.deepEqual(parse('--mod m C v', 'var'), { module: 'm', cls: 'C', method: 'v' });
  assert.deepEqual(parse('--mod m --var v', 'var'), { module: 'm', method: 'v' });
  // a part given twice, or missing
  assert.throws(() => parse('m C f --func g'), /got 3 word\(s\): m C f besides --func/);
  assert.throws(() => parse('--cls C --func f'), /got 0 word\(s\)/);
  assert.throws(() => parse('--mod m'), /got 0 word\(s\)/);
});

const EXPR: OptionSpec[] = [
  ...WATCH.map((s) => (s.key === 'expr' || s.key === 'filter' ? { ...s, expression: true } : s)),
  { names: ['-et', '--entrance_time'], key: 'entrance', kind: 'float', description: '' },
  { names: ['-d', '--depth'], key: 'depth', kind: 'int', special: [-1], min: 1, max: 6, description: '' },
];

test('an expression option takes its value as typed, up to the next option', () => {
  const parse = (line: string) => parseArgs('watch', tokenize(line), EXPR);
  let r = parse(`__main__ func -f args[0]["query"]=='hello' -n 2`);
  assert.deepEqual(r.positionals, ['__main__', 'func']);
  assert.equal(r.options.filter, `args[0]["query"]=='hello'`);
  assert.equal(r.options.limit, 2);
  r = parse(`__main__ func -f return_obj['success']==True and cost>10`);
  assert.equal(r.options.filter, `return_obj['success']==True and cost>10`);
  r = parse(`__main__ func --expr {args, return_obj} -x 2`);
  assert.equal(r.options.expr, '{args, return_obj}');
  assert.equal(r.options.expand, 2);
  r = parse(`m f --expr={args,  return_obj}`);
  assert.equal(r.options.expr, '{args,  return_obj}');
  // a minus inside the expression is not an option; a negative number neither
  r = parse(`m f -f x - 1 > -2 -e`);
  assert.equal(r.options.filter, 'x - 1 > -2');
  assert.equal(r.options.exception, true);
});

test('a shell-quoted expression keeps working, and so do options before the positionals', () => {
  const parse = (line: string) => parseArgs('watch', tokenize(line), EXPR);
  let r = parse(`__main__ func -f "args[0][\\"query\\"]=='hello'"`);
  assert.equal(r.options.filter, `args[0]["query"]=='hello'`);
  r = parse(`-f "cost > 10" __main__ func`);
  assert.equal(r.options.filter, 'cost > 10');
  assert.deepEqual(r.positionals, ['__main__', 'func']);
  r = parse(`m f --expr='a, b' -n 1`);
  assert.equal(r.options.expr, 'a, b');
  // quotes inside an unquoted expression are the expression's own
  r = parse(`m f -f 'a'=='b'`);
  assert.equal(r.options.filter, `'a'=='b'`);
  // without where the words were typed (a plain list), a value is one word
  r = parseArgs('watch', ['m', 'f', '-f', 'cost>10', 'x'], EXPR);
  assert.equal(r.options.filter, 'cost>10');
  assert.deepEqual(r.positionals, ['m', 'f', 'x']);
});

test('unambiguous prefixes of long options, as argparse allows; ambiguous ones refused', () => {
  const r = parseArgs('trace', tokenize('m f --entrance 30 --dep=2'), EXPR);
  assert.equal(r.options.entrance, 30);
  assert.equal(r.options.depth, 2);
  assert.deepEqual([...r.given].sort(), ['depth', 'entrance']);
  assert.throws(() => parseArgs('watch', tokenize('m f --ex 2'), EXPR), /ambiguous option --ex could be --expr, --expand/);
  assert.throws(() => parseArgs('watch', tokenize('m f --nosuch'), EXPR), /unknown option --nosuch/);
});

test('special values outside the range (-1: no limit)', () => {
  assert.equal(parseArgs('w', tokenize('m f -d -1'), EXPR).options.depth, -1);
  assert.equal(parseArgs('w', tokenize('m f -d 6'), EXPR).options.depth, 6);
  assert.throws(() => parseArgs('w', tokenize('m f -d 7'), EXPR), /between 1 and 6 or -1 \(got 7\)/);
  assert.throws(() => parseArgs('w', tokenize('m f -d -2'), EXPR), /between 1 and 6 or -1/);
});
