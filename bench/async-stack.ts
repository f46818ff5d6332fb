// Benchmark of `stack -a`: how long the agent takes to walk N asyncio tasks (three
// coroutines deep each) and how long the walk keeps the target's event loop from running
// (the agent's thread shares the GIL with it). test/targets/async_bench.py runs a ticker
// that sleeps 1 ms at a time and prints the worst extra wait every 0.5 s; it is read while
// nothing is asked and while stack -a is asked back to back. Run with
//   npx tsc -p tsconfig.json && node dist/bench/async-stack.js [seconds per phase] [path/to/python ...]
// and copy the table it prints into BENCHMARKS.md ("stack -a").
import { fetchAsyncTasks } from '../src/commands/async-stack.js';
import { startAgentTarget, type AgentTarget } from '../test/helpers/agent-target.js';
import { discoverPythons, type Interpreter } from '../test/helpers/pythons.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** the LAG lines printed while `during` runs (the first one, half before it, left out) */
async function lagDuring(target: AgentTarget, during: () => Promise<unknown>): Promise<number[]> {
  const from = target.stdout().length;
  await during();
  const lines = target
    .stdout()
    .slice(from)
    .split('\n')
    .filter((l) => l.startsWith('LAG '));
  return lines.slice(1).map((l) => Number(l.slice(4)));
}

async function measure(py: Interpreter, tasks: number, seconds: number) {
  const target = await startAgentTarget(py, { script: 'async_bench.py', args: [String(tasks)] });
  try {
    const client = await target.attach();
    try {
      const idle = await lagDuring(target, () => sleep(seconds * 1000));
      const calls: number[] = [];
      const busy = await lagDuring(target, async () => {
        for (const until = Date.now() + seconds * 1000; Date.now() < until; ) {
          const t = performance.now();
          const a = await fetchAsyncTasks(client);
          calls.push(performance.now() - t);
          if (a.tasks !== tasks + 1) throw new Error(`found ${a.tasks} tasks, expected ${tasks + 1} (and main)`);
        }
      });
      return { python: py.label, tasks, call: median(calls), calls: calls.length, idleLag: Math.max(...idle), busyLag: Math.max(...busy) };
    } finally {
      client.close();
    }
  } finally {
    await target.stop();
  }
}

const seconds = Number(process.argv[2] ?? 4);
const wanted = process.argv.slice(3);
const pythons = wanted.length ? discoverPythons().filter((p) => wanted.includes(p.path)) : [discoverPythons().at(-1)!];
console.log('| Python | tasks | stack -a (ms, median) | calls | worst loop lag idle (ms) | worst loop lag while asked back to back (ms) |');
console.log('|---|---|---|---|---|---|');
for (const py of pythons) {
  for (const tasks of [100, 1000, 10000]) {
    const r = await measure(py, tasks, seconds);
    console.log(
      `| ${r.python} | ${r.tasks.toLocaleString('en')} | ${r.call.toFixed(1)} | ${r.calls} | ${r.idleLag.toFixed(1)} | ${r.busyLag.toFixed(1)} |`,
    );
  }
}
