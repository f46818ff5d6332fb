// The one monotonic clock of the CLI, in milliseconds. Not `performance.now()`: Node 20
// loads its perf_hooks module on the first use of the `performance` global, about 2 ms of
// every `dump`'s start-up (BENCHMARKS.md, "dump start-up"). process.hrtime is built in.
// Times from here are only ever compared with each other.

export function nowMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}
