// npm does not link a package's own "bin" into its node_modules/.bin, so after a build
// in the repository we link it ourselves: `npx spyglass` and node_modules/.bin/spyglass
// then run the freshly built CLI, as they would for a user who installed the package.
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'dist', 'bin', 'spyglass.js');
if (!existsSync(target)) process.exit(0);
chmodSync(target, 0o755);
const binDir = join(root, 'node_modules', '.bin');
mkdirSync(binDir, { recursive: true });
const link = join(binDir, 'spyglass');
rmSync(link, { force: true });
symlinkSync(relative(binDir, target), link);
