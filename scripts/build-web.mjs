// Bundles the web page (src/web/page/main.ts and what it imports, the flame graph
// component included) into one script, dist/web/app.js, that `spyglass web` inlines into
// its page: nothing is fetched from a CDN. Part of `npm run build`.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(root, 'src', 'web', 'page', 'main.ts')],
  outfile: join(root, 'dist', 'web', 'app.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  loader: { '.css': 'text' },
  logLevel: 'warning',
});
