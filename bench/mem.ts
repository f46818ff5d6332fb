// Benchmark of `mem summary` on a big heap: test/targets/mem_app.py with N extra objects
// (default 3,000,000 tuples of an int and a str: about 9 million objects in all), the
// time the summary takes in the target and end to end, and the target's RSS before and
// at its peak during the summary (polled every 10 ms from /proc). Run with
//   npm run build && node dist/bench/mem.js [N] [path/to/python ...]
// and copy the table it prints into BENCHMARKS.md ("mem").
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { tokenize } from '../src/commands/args.js';
import { memCommand } from '../src/commands/mem.js';
import { startAgentTarget } from '../test/helpers/agent-target.js';
import { commandContext } from '../test/helpers/command-context.js';
import { discoverPythons, type Interpreter } from '../test/helpers/pythons.js';

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

interface Result {
  python: string;
  objects: number;
  agentSeconds: number;
  commandSeconds: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
}

async function measure(py: Interpreter, extra: number): Promise<Result> {
  const target = await startAgentTarget(py, { script: 'mem_app.py', args: ['--objects', String(extra), '--no-grow'] });
  try {
    const client = await target.attach();
    try {
      // the agent's own first-use cost (imports) is not the summary's: warm up on a tiny call
      await client.call('ping', {});
      const before = rssKiB(target.pid);
      let peak = before;
      const poll = setInterval(() => (peak = Math.max(peak, rssKiB(target.pid))), 10);
      const { ctx, out } = commandContext(target.pid, { agent: client });
      const t0 = performance.now();
      await memCommand.run(ctx, tokenize('summary --limit 5'));
      const commandSeconds = (performance.now() - t0) / 1000;
      clearInterval(poll);
      peak = Math.max(peak, rssKiB(target.pid));
      const a = out.records[0] as { objects: number; seconds: number };
      return {
        python: py.label,
        objects: a.objects,
        agentSeconds: a.seconds,
        commandSeconds,
        rssBeforeMiB: before / 1024,
        rssPeakMiB: peak / 1024,
      };
    } finally {
      client.close();
    }
  } finally {
    await target.stop();
  }
}

async function main(): Promise<void> {
  const extra = Number(process.argv[2] ?? 3_000_000);
  const paths = process.argv.slice(3);
  const pythons = paths.length
    ? discoverPythons().filter((p) => paths.includes(p.path))
    : discoverPythons().filter((p) => p.build === 'shared');
  const results: Result[] = [];
  for (const py of pythons) results.push(await measure(py, extra));
  console.log(
    `machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}`,
  );
  console.log(
    '| Python | objects seen | summary in the target (s) | `mem summary` end to end (s) | target RSS before (MiB) | peak RSS during (MiB) | growth |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    const growth = ((100 * (r.rssPeakMiB - r.rssBeforeMiB)) / r.rssBeforeMiB).toFixed(1);
    console.log(
      `| ${r.python} | ${r.objects.toLocaleString('en-US')} | ${r.agentSeconds.toFixed(2)} | ${r.commandSeconds.toFixed(2)} | ${r.rssBeforeMiB.toFixed(0)} | ${r.rssPeakMiB.toFixed(0)} | +${growth}% |`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
