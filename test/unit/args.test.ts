import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, parseMethodTarget, tokenize, type OptionSpec } from '../../src/commands/args.js';
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
  assert.deepEqual(tokenize(`watch __main__ func -f "args[0][\\"query\\"]=='hello'"`), ['watch', '__main__', 'func', '-f', `args[0]["query"]=='hello'`]);
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
