// Runs every compiled test file with node's built-in runner, in two phases. Most e2e tests
// wait on Python targets, so several files run at once (more than there are cores). The
// files that measure a statistical split of a busy target's time (a 3:1 flame graph, GIL
// hold shares, --blocking pauses) or bound how soon an attach lands then run one at a
// time: on a 2-core machine that also runs a dozen other targets, their threads are
// descheduled for long enough to move a share by more than any honest tolerance.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const SERIAL = [
  'attach.test.js',
  'ps-demo.test.js',
  'gilstat.test.js',
  'record.test.js',
  'record-native.test.js',
  'perf.test.js',
  'stack-consistency.test.js',
  // a recording with a floor on samples kept, of a target whose threads keep a core busy:
  // beside three other files' targets it was once starved (24 of 600 samples in 3 s)
  'stack-threads.test.js',
  // top's table must hold profile_split.py's 3:1 heavy:light split: beside the parallel
  // files' targets a preemption of tens of ms landed in heavy often enough to read 64%
  'top.test.js',
];

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
function collect(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(collect(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
let files = collect(join(root, 'dist', 'test')).sort();
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
const isSerial = (f) => SERIAL.some((s) => f.endsWith(`/${s}`));
const concurrency = process.env.SPYGLASS_TEST_CONCURRENCY ?? '4';
const phases = [
  { name: 'files in parallel', files: files.filter((f) => !isSerial(f)), concurrency },
  { name: 'statistical files, one at a time', files: files.filter(isSerial), concurrency: '1' },
].filter((p) => p.files.length);
// the shells and one-shot commands the tests run keep their history here, not in the
// user's ~/.spyglass_history (tests of the history set their own file)
const historyDir = mkdtempSync(join(tmpdir(), 'spyglass-test-history-'));
const env = { ...process.env, SPYGLASS_HISTORY: process.env.SPYGLASS_HISTORY ?? join(historyDir, 'history') };
// the usual report on stdout, and a short one of the failures kept for the end
const mainReporter = process.stdout.isTTY ? 'spec' : 'tap';
const summaryReporter = join(root, 'scripts', 'failure-summary-reporter.mjs');
let failed = false;
const summaries = [];
for (const [i, phase] of phases.entries()) {
  console.log(`# phase ${i + 1} of ${phases.length}: ${phase.files.length} ${phase.name}`);
  const summaryFile = join(historyDir, `failures-${i + 1}.txt`);
  const reporters = [
    `--test-reporter=${mainReporter}`,
    '--test-reporter-destination=stdout',
    `--test-reporter=${summaryReporter}`,
    `--test-reporter-destination=${summaryFile}`,
  ];
  const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${phase.concurrency}`, ...reporters, ...phase.files], {
    stdio: 'inherit',
    env,
  });
  if (r.status !== 0) {
    failed = true;
    console.log(`# phase ${i + 1} failed (exit ${r.status ?? r.signal})`);
  }
  const summary = existsSync(summaryFile) ? readFileSync(summaryFile, 'utf8').trim() : '';
  if (summary) summaries.push(`# phase ${i + 1}:\n${summary}`);
}
if (summaries.length) console.log(`\n# what failed, and why (the first lines of each distinct error)\n${summaries.join('\n\n')}`);
rmSync(historyDir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
