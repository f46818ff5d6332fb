// Benchmark of stack consistency without pausing: on test/targets/recursive_loop.py (a
// 20-deep recursion in a tight loop), `spyglass record` and `py-spy record --nonblocking`
// side by side, same target, same rate and duration: the share of kept samples rooted at
// <module>, and the share dropped as torn/errors. Run with
//   npm run build && env -u NODE_EXTRA_CA_CERTS node dist/bench/consistency.js [py-spy] [seconds]
// (py-spy: a path, e.g. from `python3 -m venv /tmp/v && /tmp/v/bin/pip install py-spy`;
// without it only spyglass is measured) and copy the table into BENCHMARKS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';
import { discoverPythons } from '../test/helpers/pythons.js';
import { startTarget } from '../test/helpers/targets.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'bin', 'spyglass.js');
const RATE = 100;

interface Share {
  kept: number;
  rooted: number;
  dropped: number;
}

/** Collapsed/raw lines "root;...;leaf N": kept samples and those whose root is <module>. */
function shares(text: string, dropped: number): Share {
  let kept = 0;
  let rooted = 0;
  for (const line of text.split('\n').filter(Boolean)) {
    const n = Number(line.slice(line.lastIndexOf(' ') + 1));
    kept += n;
    if (line.startsWith('<module> (')) rooted += n;
  }
  return { kept, rooted, dropped };
}

function cell(s: Share | undefined): string {
  if (!s) return 'n/a';
  const pct = (x: number, of: number) => (of ? ((100 * x) / of).toFixed(1) : '-');
  return `${pct(s.rooted, s.kept)}% of ${s.kept} | ${pct(s.dropped, s.kept + s.dropped)}%`;
}

async function main(): Promise<void> {
  const pyspy = process.argv[2] && existsSync(process.argv[2]) ? process.argv[2] : undefined;
  const seconds = Number(process.argv[3] ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-bench-consistency-'));
  const rows: string[] = [];
  try {
    for (const py of discoverPythons()) {
      const target = await startTarget(py, 'recursive_loop.py', ['20'], { readyTimeoutMs: 60000 });
      try {
        const out = join(dir, `${py.label}.txt`);
        const run = spawnSync(
          process.execPath,
          [CLI, 'record', '-p', String(target.pid), '-d', String(seconds), '-r', String(RATE), '-f', 'collapsed', '-o', out],
          { encoding: 'utf8' },
        );
        if (run.status !== 0) throw new Error(`spyglass record failed: ${run.stderr}`);
        const ours = shares(readFileSync(out, 'utf8'), Number(/, (\d+) errors/.exec(run.stderr)?.[1] ?? 0));
        let theirs: Share | undefined;
        if (pyspy) {
          const raw = join(dir, `${py.label}.pyspy.txt`);
          const r = spawnSync(
            pyspy,
            ['record', '--nonblocking', '-p', String(target.pid), '-d', String(seconds), '-r', String(RATE), '-f', 'raw', '-o', raw],
            { encoding: 'utf8' },
          );
          const errors = Number(/Errors: (\d+)/.exec(r.stdout + r.stderr)?.[1] ?? NaN);
          if (existsSync(raw)) theirs = shares(readFileSync(raw, 'utf8'), errors);
        }
        rows.push(`| ${py.label} | ${cell(ours)} | ${cell(theirs)} |`);
      } finally {
        await target.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `machine: ${cpu}, ${cpus().length} cores; node ${process.version}; ${execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim()}; load ${loadavg()[0].toFixed(1)} at the end`,
  );
  console.log(`${seconds} s at ${RATE} Hz per tool, one after the other on the same target`);
  console.log(
    '| Python | spyglass: rooted at <module> (of kept) | spyglass: dropped | py-spy --nonblocking: rooted (of kept) | py-spy: dropped (errors) |',
  );
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
