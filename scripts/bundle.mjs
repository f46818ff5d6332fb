// Bundles the CLI into dist/bin/ (docs/bundle.md): Node resolving and loading some forty
// ES modules one by one was most of `spyglass dump`'s start-up. Lazily loaded command
// modules become chunks loaded on first use, as they were files before. dist/bin/ is two
// levels below the package root like dist/src/, so src/paths.ts finds agent/ and
// examples/ from either; the GIL sampler's worker is its own entry, next to the chunk
// that starts it by URL. koffi is a native module and stays external.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bin');
await build({
  absWorkingDir: root,
  entryPoints: { spyglass: 'src/cli/main.ts', 'sampler-worker': 'src/gil/sampler-worker.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['koffi'],
  // commander is CommonJS: esbuild's ESM output needs a require() for its node: imports
  banner: { js: "import { createRequire as __spyglassRequire } from 'node:module'; const require = __spyglassRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync(join(outdir, 'spyglass.js'), 0o755);
