// Every way a watch, trace or monitor ends removes its hook completely, on every
// interpreter: Ctrl-C, --timeout (both abort the command's signal, as the shell and the
// one-shot --timeout do), -n reached, `reset`, detach, and the client's connection dying.
// Afterwards the function runs its original code object again and is the same object.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentClient } from '../../src/channel/client.js';
import { monitorCommand } from '../../src/commands/monitor.js';
import { traceCommand } from '../../src/commands/trace.js';
import type { ShellCommand } from '../../src/commands/types.js';
import { watchCommand } from '../../src/commands/watch.js';
import { assertOutputUnchanged, describeObserved, evalRepr, events, runCommand, waitUntil, type Observed } from '../helpers/observe.js';

const COMMANDS: Array<[ShellCommand, string, string]> = [
  // command, a run that goes on until stopped, a run that ends by its own -n
  [watchCommand, 'watch __main__ handle -n 100000', 'watch __main__ handle -n 1'],
  [traceCommand, 'trace __main__ handle -n 100000', 'trace __main__ handle -n 1'],
  [monitorCommand, 'monitor __main__ handle -c 0.2', 'monitor __main__ handle -c 0.2 -n 1'],
];

type Ending = (o: Observed, cmd: ShellCommand, endless: string, limited: string) => Promise<void>;

const started = (r: Record<string, unknown>) => r.event === 'started';

/** Runs `line` on its own connection until the hook is in, then `end`s it that way. */
async function onOwnClient(o: Observed, cmd: ShellCommand, line: string, end: (c: AgentClient) => Promise<void>): Promise<void> {
  const client = await o.target.connect();
  try {
    const running = runCommand(cmd, o, line, { client }).catch(() => undefined); // the connection may go first
    await waitUntil(o, 'handle.__code__ is not ORIGINAL_CODE[0]');
    await end(client);
    await running;
  } finally {
    client.close();
  }
}

const ENDINGS: Array<[string, Ending]> = [
  [
    'Ctrl-C',
    async (o, cmd, endless) => {
      const out = await runCommand(cmd, o, endless, { until: started });
      assert.equal(events(out, 'end')[0].reason, 'cancelled');
    },
  ],
  [
    '--timeout',
    async (o, cmd, endless) => {
      const out = await runCommand(cmd, o, endless, { stopAfterMs: 700 });
      assert.equal(events(out, 'end')[0].reason, 'cancelled');
    },
  ],
  [
    '-n reached',
    async (o, cmd, _endless, limited) => {
      const out = await runCommand(cmd, o, limited);
      assert.equal(events(out, 'end')[0].reason, 'limit');
    },
  ],
  [
    'reset',
    (o, cmd, endless) =>
      onOwnClient(o, cmd, endless, async (c) => {
        assert.equal(((await c.call('reset', {})) as { cancelled: number }).cancelled, 1);
      }),
  ],
  ['detach', (o, cmd, endless) => onOwnClient(o, cmd, endless, (c) => c.detach())],
  ['connection closed', (o, cmd, endless) => onOwnClient(o, cmd, endless, async (c) => c.close())],
];

describeObserved('watch/trace/monitor lifecycle', (o) => {
  for (const [cmd, endless, limited] of COMMANDS) {
    test(`${cmd.name}: every ending restores the original code, same function object`, async () => {
      for (const [name, end] of ENDINGS) {
        await end(o, cmd, endless, limited);
        await waitUntil(o, 'codes_restored()').catch((e) => assert.fail(`${cmd.name} after ${name}: ${e}`));
        assert.equal(
          await evalRepr(o, '(id(handle) == HANDLE_ID, handlers[0] is handle, handle.__code__ is ORIGINAL_CODE[0])'),
          '(True, True, True)',
          name,
        );
      }
      assertOutputUnchanged(o.target);
    });
  }
});
