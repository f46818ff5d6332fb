// The heap-walking commands on an asyncio program, on every interpreter
// (test/targets/asyncio_app.py: tasks awaiting futures and sleeps, so _asyncio's free list
// is populated): mem summary three times, mem diff, mem refs, vmtool getInstances and
// forceGc, then watch -nm on a function nested in an async def, then the program's own
// full collection. Each completes with its content, and the program is still counting
// afterwards: on 3.12.0-3.12.5 a heap walk that touched the free list made the next
// collection loop for ever (docs/free-lists.md).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tokenize } from '../../src/commands/args.js';
import { findCommand } from '../../src/commands/registry.js';
import { startAgentTarget, type AgentTarget } from '../helpers/agent-target.js';
import { commandContext, type CapturedOutput } from '../helpers/command-context.js';
import { discoverPythons } from '../helpers/pythons.js';
import type { AgentClient } from '../../src/channel/client.js';

type Rec = Record<string, any>;

async function run(target: AgentTarget, client: AgentClient, line: string): Promise<CapturedOutput> {
  const words = tokenize(line);
  const { ctx, out, abort } = commandContext(target.pid, { agent: client });
  // stopped after 20 s; a command that does not end 10 s later means a frozen target:
  // the test fails instead of waiting for ever
  const stop = setTimeout(() => abort.abort(), 20000);
  let frozen: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      findCommand(words[0])!.run(ctx, words.slice(1)),
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

/** The last number the target printed after `word`. */
function last(target: AgentTarget, word: string): number {
  const all = [...target.stdout().matchAll(new RegExp(`^${word} (\\d+)$`, 'gm'))];
  return all.length ? Number(all[all.length - 1][1]) : 0;
}

describe('heap walks on an asyncio program', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    test(py.label, async () => {
      const target = await startAgentTarget(py, { script: 'asyncio_app.py', progress: /^COUNT \d+$/ });
      try {
        const client = await target.attach();
        try {
          await target.waitFor(/^COLLECTED /); // the workers have awaited many futures by now
          for (let i = 0; i < 3; i++) {
            const summary = (await run(target, client, 'mem summary --limit 500')).records[0] as Rec;
            const job = summary.rows.find((r: Rec) => r.type === '__main__.Job');
            assert.equal(job?.count, 5, JSON.stringify(summary.rows.slice(0, 5)));
          }
          const diff = (await run(target, client, 'mem diff --interval 0.2')).records[0] as Rec;
          assert.equal(typeof diff.changed_types, 'number', JSON.stringify(diff));
          const refs = (await run(target, client, 'mem refs __main__ Job')).records[0] as Rec;
          assert.deepEqual(
            [refs.instances, refs.root?.kind, refs.root?.module, refs.root?.name],
            [5, 'module', '__main__', 'JOBS'],
            JSON.stringify(refs),
          );
          const found = (await run(target, client, 'vmtool -a getInstances -c __main__ Job -n -1')).records[0] as Rec;
          assert.equal(found.total, 5, JSON.stringify(found));
          const gc = (await run(target, client, 'vmtool -a forceGc')).records[0] as Rec;
          assert.equal(gc.generations?.length, 3, JSON.stringify(gc));
          const watched = await run(target, client, 'watch __main__ handle -nm compute --expr args,return_obj -n 1');
          const call = watched.records.find((r) => r.event === 'call') as Rec;
          const [args, ret] = call.values;
          assert.equal(Number(ret.value.repr), Number(/^\((\d+),\)$/.exec(args.value.repr)![1]) * 2 + 1, JSON.stringify(call.values));
          // the program's own full collection, then it keeps counting
          const collected = last(target, 'COLLECTED');
          await target.waitFor(new RegExp(`^COLLECTED ${collected + 25}$`), 10000);
          await target.assertProgressing();
          assert.equal(target.stderr(), '');
        } finally {
          client.close();
        }
      } finally {
        await target.stop();
      }
    });
  }
});
