// Shared by the watch/trace/monitor e2e tests: a test/targets/observe_app.py target with
// the agent loaded, running a shell command module against it, and the checks every test
// repeats (the target's output is unchanged, its functions are the originals again).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe } from 'node:test';
import type { AgentClient } from '../../src/channel/client.js';
import { tokenize } from '../../src/commands/args.js';
import type { ShellCommand } from '../../src/commands/types.js';
import { startAgentTarget, type AgentTarget } from './agent-target.js';
import { commandContext, type CapturedOutput } from './command-context.js';
import { discoverPythons, type Interpreter } from './pythons.js';

export interface Observed {
  target: AgentTarget;
  client: AgentClient;
  stop(): Promise<void>;
}

export async function startObserved(py: Interpreter): Promise<Observed> {
  const target = await startAgentTarget(py, { script: 'observe_app.py', progress: /^ROUND \d+ / });
  try {
    const client = await target.attach();
    await target.waitFor(/^ROUND 3 /);
    return {
      target,
      client,
      async stop() {
        client.close();
        await target.stop();
      },
    };
  } catch (e) {
    await target.stop();
    throw e;
  }
}

/**
 * One describe per interpreter under `name`, each with its own observed target: `o` is
 * filled in before the first test and stopped after the last. A version's tests run one
 * after another (each checks that its hooks are gone); versions run side by side.
 */
export function describeObserved(name: string, body: (o: Observed, py: Interpreter) => void): void {
  describe(name, { concurrency: true }, () => {
    for (const py of discoverPythons()) {
      describe(py.label, { concurrency: false }, () => {
        const o = {} as Observed;
        before(async () => {
          Object.assign(o, await startObserved(py));
        });
        afterEach(async () => {
          await o.target?.assertProgressing();
        });
        after(async () => {
          await o.stop?.();
        });
        body(o, py);
      });
    }
  });
}

/** A command whose -n is never reached is stopped after this long, so a test fails
 * on its counts instead of hanging. */
const SAFETY_STOP_MS = 30000;

/**
 * Runs `line` (e.g. `watch __main__ handle -n 2`) through the command module as the shell
 * would. With stopAfterMs the command is aborted then (Ctrl-C / --timeout; default
 * SAFETY_STOP_MS); `until` aborts as soon as a record satisfies it, `stopWhen` when it settles.
 */
export async function runCommand(
  cmd: ShellCommand,
  o: Observed,
  line: string,
  opts: { stopAfterMs?: number; until?: (r: Record<string, unknown>) => boolean; stopWhen?: Promise<unknown>; client?: AgentClient } = {},
): Promise<CapturedOutput> {
  const words = tokenize(line);
  assert.equal(words[0], cmd.name);
  const { ctx, out, abort } = commandContext(o.target.pid, { agent: opts.client ?? o.client });
  const timer = setTimeout(() => abort.abort(), opts.stopAfterMs ?? SAFETY_STOP_MS);
  const running = cmd.run(ctx, words.slice(1));
  if (opts.until) {
    out.waitForRecord(opts.until).then(
      () => abort.abort(),
      () => undefined,
    );
  }
  opts.stopWhen?.then(
    () => abort.abort(),
    () => abort.abort(),
  );
  try {
    await running;
  } finally {
    clearTimeout(timer);
  }
  return out;
}

export function events(out: CapturedOutput, event: string): Array<Record<string, any>> {
  return out.records.filter((r) => r.event === event) as Array<Record<string, any>>;
}

/** What observe_app.py's one_round(i) returns, as it prints it. */
export function expectedRound(i: number): string {
  const body = Array(3)
    .fill(i % 2 === 0 ? 'hello' : 'world')
    .join('|');
  return JSON.stringify([body, 99 + (i % 5), i, i % 3 === 0 ? `bad n ${i}` : i, 2 * i, 2 * i, [0, 1, 2]]);
}

/** Every ROUND line printed so far is exactly what an unobserved run prints. */
export function assertOutputUnchanged(target: AgentTarget): number {
  const rounds = target
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('ROUND '));
  for (const l of rounds) {
    const m = /^ROUND (\d+) (.*)$/.exec(l);
    assert.ok(m, l);
    assert.equal(m[2], expectedRound(Number(m[1])), `round ${m[1]} changed while observed`);
  }
  assert.equal(target.stderr(), '', 'the target wrote to stderr');
  return rounds.length;
}

/** The full repr() of an expression evaluated in the target's __main__ (the agent's eval
 * command, raw: containers are not summarised). */
export async function evalRepr(o: Observed, expr: string): Promise<string> {
  const node = (await o.client.call('eval', { expr, raw: true })) as { repr: string };
  return node.repr;
}

/** The observed functions run their original code objects again (nothing left hooked). */
export async function assertRestored(o: Observed): Promise<void> {
  assert.equal(await evalRepr(o, 'codes_restored()'), 'True', 'a hooked function still runs a wrapper');
}

/** Waits (bounded, polling) until a Python expression in the target's __main__ is true. */
export async function waitUntil(o: Observed, expr: string, timeoutMs = 15000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    if ((await evalRepr(o, expr)) === 'True') return;
    assert.ok(Date.now() < deadline, `${expr} is still not true after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
