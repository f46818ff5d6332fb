// `npm run lint` (also run by `npm test`): Biome over the TypeScript, ruff over the Python.
// Any finding fails. `npm run lint -- --fix` applies the fixes both tools call safe.
//
// ruff lives in .venv-lint (scripts/install-test-deps.sh creates it; the agent itself
// stays stdlib-only). Where it is missing, a developer's run says so and skips only the
// Python half; under CI (CI=true) it is required.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

// The format check: formatting differences fail the lint too (`npm run format` fixes them).
const CHECK_FORMAT = true;

const root = new URL('..', import.meta.url).pathname;
const fix = process.argv.includes('--fix');
const ruff = join(root, '.venv-lint', 'bin', 'ruff');
let failed = false;

function run(what, cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    failed = true;
    console.error(`lint: ${what} failed`);
  }
}

const biome = join(root, 'node_modules', '.bin', 'biome');
run('biome lint', biome, ['lint', '--error-on-warnings', ...(fix ? ['--write'] : [])]);
if (CHECK_FORMAT) run('biome format', biome, ['format']);

if (existsSync(ruff)) {
  run('ruff check', ruff, ['check', ...(fix ? ['--fix'] : []), '.']);
  if (CHECK_FORMAT) run('ruff format', ruff, ['format', '--check', '.']);
} else if (process.env.CI === 'true') {
  failed = true;
  console.error('lint: ruff is missing (.venv-lint/bin/ruff); scripts/install-test-deps.sh installs it');
} else {
  console.error(
    'lint: ruff is not installed (.venv-lint/bin/ruff): the Python half is skipped; `bash scripts/install-test-deps.sh` installs it',
  );
}

process.exit(failed ? 1 : 0);
