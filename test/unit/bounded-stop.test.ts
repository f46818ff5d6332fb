// The bound on a stopped command (src/shell/bounded.ts), without a target: a command that
// ends on its own is returned; one still running STOP_GRACE_MS after the stop while the
// agent stays silent ends with AgentNotAnsweringError; one whose agent is still talking
// (events of a command slow to stop) is waited for. The agent's threads are read from a
// process that is not Python (this one), so the error says they could not be read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentNotAnsweringError } from '../../src/channel/client.js';
import { boundedAfterStop, STOP_GRACE_MS } from '../../src/shell/bounded.js';

const never = new Promise<never>(() => undefined);

test('a command that ends is returned, stopped or not', async () => {
  const ac = new AbortController();
  assert.equal(await boundedAfterStop(Promise.resolve('done'), ac.signal, { pid: process.pid, unansweredMs: () => 1e9 }), 'done');
  ac.abort();
  assert.equal(
    await boundedAfterStop(new Promise((r) => setTimeout(() => r('late'), STOP_GRACE_MS / 2)), ac.signal, {
      pid: process.pid,
      unansweredMs: () => 1e9,
    }),
    'late',
  );
});

test('stopped, with a silent agent: the not-answering error after the grace period', async () => {
  const ac = new AbortController();
  const started = Date.now();
  const silentSince = Date.now() - 5000;
  const running = boundedAfterStop(never, ac.signal, { pid: process.pid, unansweredMs: () => Date.now() - silentSince });
  ac.abort();
  await assert.rejects(running, (e: Error) => {
    assert.ok(e instanceof AgentNotAnsweringError, String(e));
    assert.match(
      e.message,
      new RegExp(`^the agent in process ${process.pid} has not answered for \\d+\\.\\d s; its threads could not be read from outside`),
    );
    return true;
  });
  const took = Date.now() - started;
  assert.ok(took >= STOP_GRACE_MS, `ended after ${took} ms, before the grace period`);
});

test('not stopped: never cut short, however silent the agent', async () => {
  const ac = new AbortController();
  const running = boundedAfterStop(never, ac.signal, { pid: process.pid, unansweredMs: () => 1e9 });
  const outcome = await Promise.race([
    running.then(
      () => 'ended',
      () => 'failed',
    ),
    new Promise((r) => setTimeout(() => r('still running'), STOP_GRACE_MS * 1.5)),
  ]);
  assert.equal(outcome, 'still running');
});

test('stopped, with an agent still talking: waited for until it falls silent', async () => {
  const ac = new AbortController();
  let talking = true;
  let silentSince = 0;
  const running = boundedAfterStop(never, ac.signal, { pid: process.pid, unansweredMs: () => (talking ? 0 : Date.now() - silentSince) });
  ac.abort();
  const early = await Promise.race([
    running.then(
      () => 'ended',
      () => 'failed',
    ),
    new Promise((r) => setTimeout(() => r('still running'), STOP_GRACE_MS * 1.5)),
  ]);
  assert.equal(early, 'still running');
  talking = false;
  silentSince = Date.now();
  await assert.rejects(running, AgentNotAnsweringError);
});

test('aborted after the command ended (the one-shot closing its connection): no timer is left to keep the process alive', async () => {
  const ac = new AbortController();
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  assert.equal(await boundedAfterStop(Promise.resolve('done'), ac.signal, { pid: process.pid, unansweredMs: () => 1e9 }), 'done');
  ac.abort();
  assert.equal(timers(), before);
});
