// Bundles the CLI into dist/bin/ (docs/bundle.md): Node resolving and loading some forty
// ES modules one by one was most of `spyglass dump`'s start-up. Lazily loaded command
// modules become chunks loaded on first use, as they were files before. dist/bin/ is two
// levels below the package root like dist/src/, so src/paths.ts finds agent/, examples/
// and the web page's dist/web/ from either; the GIL sampler's worker is its own entry,
// next to the chunk that starts it by URL. koffi is a native module and stays external.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bin');
// chunk names carry a content hash: clear the last build's so that none is left behind
rmSync(outdir, { recursive: true, force: true });
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
