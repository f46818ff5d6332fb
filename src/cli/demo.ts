// `spyglass demo`'s command line; what it runs is demo-run.ts, loaded when it runs.
import type { Command } from 'commander';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .summary('run spyglass on a bundled sample Python service: its stacks, a flame graph, a watch, in about 5 s')
    .description(
      'Starts examples/sample_service.py (an HTTP API with worker threads, standard library only) with ' +
        'python3 from PATH (or an installed CPython), and on it: prints its thread stacks as `spyglass dump` ' +
        'would, records a 2 s flame graph and its top functions as `spyglass record` would, attaches and ' +
        "watches 3 calls of one function as the shell's `watch` would, detaches, and stops the service.",
    )
    .option('--dir <dir>', 'where to write the flame graph (default: a new temporary directory)')
    .action(async (o: { dir?: string }) => {
      // the demo's modules (the agent, the shell, the sampler) load only when it runs (BENCHMARKS.md#dump-start-up)
      const [{ runDemo }, { createOutput, wantColor }] = await Promise.all([import('./demo-run.js'), import('../shell/output.js')]);
      const failed = await runDemo(createOutput({ json: false, color: wantColor(process.stdout) }), { dir: o.dir });
      if (failed && process.exitCode === undefined) process.exitCode = 1;
    });
}
