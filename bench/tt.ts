// Benchmark of tt's per-call recording cost: test/targets/inside_bench.py calls
// handle(req) (req a small dict) in a tight loop and prints its call rate every 0.5 s.
// The rate is read with nothing hooked and while `tt -t __main__ handle` records every
// call, alternately (so machine load hits both alike); the cost per recorded call is
// 1/rate(recording) - 1/rate(plain). Run with
//   npx tsc -p tsconfig.json && node dist/bench/tt.js [seconds per phase] [path/to/python ...]
// and copy the table it prints into BENCHMARKS.md ("tt").
import { tokenize } from '../src/commands/args.js';
import { ttCommand } from '../src/commands/tt.js';
import { startAgentTarget, type AgentTarget } from '../test/helpers/agent-target.js';
import { commandContext } from '../test/helpers/command-context.js';
import { discoverPythons, type Interpreter } from '../test/helpers/pythons.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** the RATE lines printed while `during` runs (the first one, half before it, left out) */
async function ratesDuring(target: AgentTarget, during: () => Promise<unknown>): Promise<number[]> {
  const from = target.stdout().length;
  await during();
  const lines = target
    .stdout()
    .slice(from)
    .split('\n')
    .filter((l) => l.startsWith('RATE '));
  return lines.slice(1, -1).map((l) => Number(l.slice(5)));
}

interface Result {
  python: string;
  plain: number;
  recording: number;
  /** records sent to the client as they were made */
  shown: number;
  /** records made faster than they could be sent (kept, listed by tt -l) */
  lost: number;
}

async function measure(py: Interpreter, seconds: number, rounds: number): Promise<Result> {
  const target = await startAgentTarget(py, { script: 'inside_bench.py' });
  try {
    const client = await target.attach();
    try {
      const plain: number[] = [];
      const recording: number[] = [];
      let shown = 0;
      let lost = 0;
      for (let i = 0; i < rounds; i++) {
        plain.push(...(await ratesDuring(target, () => sleep(seconds * 1000))));
        const { ctx, out, abort } = commandContext(target.pid, { agent: client });
        recording.push(
          ...(await ratesDuring(target, async () => {
            const timer = setTimeout(() => abort.abort(), seconds * 1000);
            await ttCommand.run(ctx, tokenize('-t __main__ handle -n 100000000 --max-mem 64'));
            clearTimeout(timer);
          })),
        );
        const end = out.records.find((r) => r.end) as { recorded: number; lost: number };
        shown += end.recorded;
        lost += end.lost;
        await client.call('tt', { action: 'delete_all' });
      }
      return { python: py.label, plain: median(plain), recording: median(recording), shown, lost };
    } finally {
      client.close();
    }
  } finally {
    await target.stop();
  }
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 4);
  const paths = process.argv.slice(3);
  const pythons = paths.length
    ? discoverPythons().filter((p) => paths.includes(p.path))
    : discoverPythons().filter((p) => p.build === 'shared');
  console.log(
    '| Python | calls/s plain | calls/s while tt records each | cost per recorded call (µs) | records made (of which streamed live) |',
  );
  console.log('|---|---|---|---|---|');
  for (const py of pythons) {
    const r = await measure(py, seconds, 3);
    const cost = (1 / r.recording - 1 / r.plain) * 1e6;
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log(
      `| ${r.python} | ${fmt(r.plain)} | ${fmt(r.recording)} | ${cost.toFixed(1)} | ${fmt(r.shown + r.lost)} (${fmt(r.shown)}) |`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
