// Every shape of function a hook can be put on × every command that hooks (watch, trace,
// tt, monitor, torch profile with a stand-in torch), on every interpreter, against
// test/targets/hook_shapes.py: one target and one agent session per interpreter, the
// combinations one after another with -n 1. For each: the call reported carries the
// function's name (and for watch and tt its argument and return value, which the target
// computes as x * K + T per shape; tt's record replayed with -p gives it again); afterwards every function runs its original code
// object, the target printed nothing but its own lines (nothing from spyglass, no wrong
// result) and is still making progress.
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AgentClient } from '../../src/channel/client.js';
import { tokenize } from '../../src/commands/args.js';
import { findCommand } from '../../src/commands/registry.js';
import { startAgentTarget, type AgentTarget } from '../helpers/agent-target.js';
import { commandContext, type CapturedOutput } from '../helpers/command-context.js';
import { discoverPythons } from '../helpers/pythons.js';

type Rec = Record<string, any>;

interface Shape {
  /** the words naming it: module [class] method [-nm nested] */
  words: string;
  /** the label the agent reports */
  label: string;
  /** the function's own name (what trace's tree shows, possibly qualified) */
  name: string;
  /** the key of hook_shapes.py's SHAPES: returns x * K + T */
  key: string;
  /** the first argument is x (else only the return value is checked: a property) */
  argIsX: boolean;
}

const SHAPES: Shape[] = [
  { words: '__main__ mod_func', label: '__main__.mod_func', name: 'mod_func', key: 'mod_func', argIsX: true },
  { words: '__main__ Shape method', label: '__main__.Shape.method', name: 'method', key: 'method', argIsX: true },
  { words: '__main__ Shape cmeth', label: '__main__.Shape.cmeth', name: 'cmeth', key: 'cmeth', argIsX: true },
  { words: '__main__ Shape smeth', label: '__main__.Shape.smeth', name: 'smeth', key: 'smeth', argIsX: true },
  { words: '__main__ Shape prop', label: '__main__.Shape.prop', name: 'prop', key: 'prop', argIsX: false },
  { words: '__main__ async_func', label: '__main__.async_func', name: 'async_func', key: 'async_func', argIsX: true },
  { words: '__main__ gen_func', label: '__main__.gen_func', name: 'gen_func', key: 'gen_func', argIsX: true },
  {
    words: '__main__ outer_func -nm nested_in_func',
    label: '__main__.outer_func.nested_in_func',
    name: 'nested_in_func',
    key: 'nested_in_func',
    argIsX: true,
  },
  {
    words: '__main__ Shape outer_method -nm nested_in_method',
    label: '__main__.Shape.outer_method.nested_in_method',
    name: 'nested_in_method',
    key: 'nested_in_method',
    argIsX: true,
  },
  {
    words: '__main__ Shape outer_cmeth -nm nested_in_cmeth',
    label: '__main__.Shape.outer_cmeth.nested_in_cmeth',
    name: 'nested_in_cmeth',
    key: 'nested_in_cmeth',
    argIsX: true,
  },
  {
    words: '__main__ outer_async -nm nested_in_async',
    label: '__main__.outer_async.nested_in_async',
    name: 'nested_in_async',
    key: 'nested_in_async',
    argIsX: true,
  },
  // functools.wraps or not, the module's name is bound to the decorator's wrapper function
  { words: '__main__ wrapped_func', label: '__main__.wrapped_func', name: 'wrapper', key: 'wrapped_func', argIsX: true },
  { words: '__main__ unwrapped_func', label: '__main__.unwrapped_func', name: 'plain_wrapper', key: 'unwrapped_func', argIsX: true },
  { words: '__main__ Derived method', label: '__main__.Shape.method', name: 'method', key: 'inherited', argIsX: true },
  { words: '__main__ recursive', label: '__main__.recursive', name: 'recursive', key: 'recursive', argIsX: true },
  // -nm inside a decorated function: the function its decorator's wrapper wraps defines it
  {
    words: '__main__ wrapped_outer -nm nested_in_wrapped',
    label: '__main__.wrapped_outer.nested_in_wrapped',
    name: 'nested_in_wrapped',
    key: 'nested_in_wrapped',
    argIsX: true,
  },
];

interface Session {
  target: AgentTarget;
  client: AgentClient;
  /** SHAPES of hook_shapes.py: key -> [K, T] */
  kt: Record<string, [number, number]>;
  dir: string;
}

/** Runs one shell command line through its module, as the shell would; stopped after 20 s at most. */
async function run(s: Session, line: string): Promise<CapturedOutput> {
  const words = tokenize(line);
  const cmd = findCommand(words[0]);
  assert.ok(cmd, words[0]);
  const { ctx, out, abort } = commandContext(s.target.pid, { agent: s.client, cwd: s.dir });
  // stopped after 20 s; a command that does not end 10 s later means a frozen target:
  // the test fails instead of waiting for ever
  const stop = setTimeout(() => abort.abort(), 20000);
  let frozen: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      cmd.run(ctx, words.slice(1)),
      new Promise((_, reject) => {
        frozen = setTimeout(() => reject(new Error(`\`${line}\` did not end within 30 s (is the target frozen?)`)), 30000);
      }),
    ]);
  } finally {
    clearTimeout(stop);
    clearTimeout(frozen);
  }
  return out;
}

/** The value x * K + T the shape returns for x; with only the return value, that it has that form. */
function assertValue(s: Session, shape: Shape, args: string, result: string, what: string): void {
  const [k, t] = s.kt[shape.key];
  const ret = Number(result);
  assert.ok(Number.isInteger(ret), `${what}: return value ${result}`);
  if (shape.argIsX) {
    const m = /^\((\d+),/.exec(args);
    assert.ok(m, `${what}: arguments ${args}`);
    assert.equal(ret, Number(m[1]) * k + t, `${what}: ${args} -> ${result}`);
  } else {
    assert.equal((ret - t) % k, 0, `${what}: return value ${result}`);
  }
}

/** tt names a record as it was asked for: module.class.method[.nested], or module.function
 * for a module's function (`tt -l -m` filters on it) */
function ttLabel(shape: Shape): string {
  const [names, nested] = shape.words.split(' -nm ');
  return [...names.split(' '), ...(nested ? [nested] : [])].join('.');
}

const COMMANDS: Record<string, (s: Session, shape: Shape) => Promise<void>> = {
  async watch(s, shape) {
    const out = await run(s, `watch ${shape.words} --expr args,return_obj -n 1`);
    const calls = out.records.filter((r) => r.event === 'call') as Rec[];
    assert.equal(calls.length, 1, JSON.stringify(out.records));
    assert.equal(calls[0].method, shape.label);
    assert.equal(calls[0].thread, 'driver');
    const [args, ret] = calls[0].values;
    assertValue(s, shape, args.value.repr, ret.value.repr, 'watch');
  },
  async trace(s, shape) {
    const out = await run(s, `trace ${shape.words} -n 1`);
    const traces = out.records.filter((r) => r.event === 'trace') as Rec[];
    assert.equal(traces.length, 1, JSON.stringify(out.records));
    assert.equal(traces[0].method, shape.label);
    const tree = traces[0].tree;
    assert.match(tree.name, new RegExp(`(^|\\.)${shape.name}$`), JSON.stringify(tree));
    assert.equal(tree.file, 'hook_shapes.py');
  },
  async tt(s, shape) {
    const out = await run(s, `tt -t ${shape.words} -n 1`);
    const recs = out.records.filter((r) => typeof r.index === 'number') as Rec[];
    assert.equal(recs.length, 1, JSON.stringify(out.records));
    assert.equal(recs[0].method, ttLabel(shape));
    assert.ok(recs[0].is_return && !recs[0].is_exception, JSON.stringify(recs[0]));
    // a method's record shows self (or cls) first: x is the first number among the arguments
    const x = /^\(.*?\b(\d+)[,)]/.exec(recs[0].args)?.[1];
    const args = shape.argIsX ? `(${x},)` : recs[0].args;
    assertValue(s, shape, args, recs[0].result, 'tt');
    // replayed with the recorded arguments, the value for them again (a function defined inside
    // another is refused: its closure was one call's; a generator function's replay hands
    // back the generator, unconsumed)
    if (!shape.words.includes(' -nm ') && shape.key !== 'gen_func') {
      const replay = (await run(s, `tt -i ${recs[0].index} -p`)).records[0] as Rec;
      assert.deepEqual([replay.replay_of, replay.is_return], [recs[0].index, true], JSON.stringify(replay));
      // (a property's value is of the live object's state now: only its form is known)
      assertValue(s, shape, args, replay.result.value.repr, 'tt -p');
    }
    assert.equal((await run(s, 'tt -da')).records.length, 1); // the records go, for the next shape
  },
  async monitor(s, shape) {
    // a 1 s cycle: at load 20 a 0.5 s one passed once without the driver thread running
    const out = await run(s, `monitor ${shape.words} -c 1 -n 1`);
    const cycles = out.records.filter((r) => r.event === 'cycle') as Rec[];
    assert.equal(cycles.length, 1, JSON.stringify(out.records));
    assert.equal(cycles[0].method, shape.label);
    assert.ok(cycles[0].calls >= 1 && cycles[0].success === cycles[0].calls, JSON.stringify(cycles[0]));
  },
  async torch(s, shape) {
    const file = join(s.dir, 'trace.json');
    rmSync(file, { force: true });
    const out = await run(s, `torch profile ${shape.words} -f ${file}`);
    const end = out.records[out.records.length - 1] as Rec;
    assert.equal(end.method, shape.label, JSON.stringify(out.records));
    assert.equal(end.thread, 'driver');
    // the stand-in profiler was entered and left around that call, on its thread
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { stand_in_torch: true, threads: ['driver', 'driver'], traceEvents: [] });
  },
};

/** The target printed only its own lines: READY, ROUND n (a wrong result would print WRONG). */
function assertOwnOutputOnly(target: AgentTarget): void {
  const stray = target
    .stdout()
    .split('\n')
    .filter((l) => l && !/^(READY |ROUND \d+$)/.test(l));
  assert.deepEqual(stray, [], 'the target printed something else');
  assert.equal(target.stderr(), '', 'the target wrote to stderr');
}

describe('hook matrix: every shape × every hooking command', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    describe(py.label, { concurrency: false }, () => {
      const s = {} as Session;
      before(async () => {
        s.dir = mkdtempSync(join(tmpdir(), 'spyglass-matrix-'));
        s.target = await startAgentTarget(py, { script: 'hook_shapes.py', progress: /^ROUND \d+$/ });
        s.kt = JSON.parse((await s.target.waitFor(/^READY /)).slice(6)).shapes;
        s.client = await s.target.attach();
      });
      after(async () => {
        s.client?.close();
        await s.target?.stop();
        if (s.dir) rmSync(s.dir, { recursive: true, force: true });
      });
      for (const [name, check] of Object.entries(COMMANDS)) {
        test(`${name}: each shape reported, then the original code back`, async () => {
          for (const shape of SHAPES) {
            await check(s, shape).catch((e: Error) => {
              e.message = `${name} ${shape.words}: ${e.message}`;
              throw e;
            });
            const restored = (await s.client.call('eval', { expr: 'codes_restored()' })) as { repr: string };
            assert.equal(restored.repr, 'True', `${name} ${shape.words}: a function still runs a hook wrapper`);
            assertOwnOutputOnly(s.target);
          }
          await s.target.assertProgressing();
        });
      }
    });
  }
});
