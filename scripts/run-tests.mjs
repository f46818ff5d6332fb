// Runs every compiled test file with node's built-in runner. Unit tests and end-to-end
// tests go in one run so the summary at the end counts everything. The e2e tests mostly
// wait on Python targets, so more files run at once than there are cores.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

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
const concurrency = process.env.SPYGLASS_TEST_CONCURRENCY ?? '4';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
