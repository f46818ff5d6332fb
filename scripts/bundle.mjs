// Bundles the CLI into dist/bin/ (docs/bundle.md): one CommonJS file, dist/bin/cli.js,
// run by the launcher dist/bin/spyglass.js (scripts/launcher.cjs) through V8's code
// cache. Node resolving and loading ES modules one by one, its ES module loader, and
// compiling the bundle were most of `spyglass dump`'s start-up. Modules a command loads
// with import() are wrapped by esbuild to run on first use, their node: built-ins with
// them, so a `dump` never loads the web server's http or the shell's readline.
// dist/bin/ is two levels below the package root like dist/src/, so src/paths.ts finds
// agent/, examples/ and the web page's dist/web/ from either; the GIL sampler's worker
// is its own entry, next to the bundle that starts it by URL. koffi is a native module
// and stays external.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bin');

/**
 * commander requires node:child_process when it loads, for executable subcommands
 * (`git-style` files), which spyglass has none of; loading it (with net, dgram and the
 * stream machinery it pulls in) was a share of every command's start-up. commander gets
 * a stand-in that loads the real module on first use instead.
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[/\\]node_modules[/\\]commander[/\\]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: "let real; module.exports = new Proxy({}, { get: (_, key) => (real ??= require('node:child_process'))[key] });",
      loader: 'js',
    }));
  },
};

// clear the last build's files so that none is left behind
rmSync(outdir, { recursive: true, force: true });
const common = {
  absWorkingDir: root,
  outdir,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['koffi'],
  // (each path segment percent-encoded by hand: node:url's pathToFileURL cost ~1 ms of every start)
  banner: { js: "var __spyglassModuleUrl = 'file://' + __filename.split('/').map(encodeURIComponent).join('/');" },
  plugins: [lazyChildProcessForCommander],
  // half the bytes to read, and a smaller code cache to load, at every start (docs/bundle.md).
  // Not keepNames: its defineProperty of every function's name ran ~2.5 ms at each start;
  // nothing reads a function's name (errors name themselves), and cli.js.map maps a
  // `--debug` stack trace back to src/ (node --enable-source-maps)
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
};
/** the sources are ES modules: their own URL (src/paths.ts, the worker's) is the bundle's */
const defines = (command) => ({
  'import.meta.url': '__spyglassModuleUrl',
  'process.env.SPYGLASS_BUNDLE_COMMAND': command === undefined ? 'undefined' : JSON.stringify(command),
});
// the whole CLI (help, the shell on a bare pid, anything not named below) and the worker
await build({ ...common, entryPoints: { cli: 'src/cli/main.ts', 'sampler-worker': 'src/gil/sampler-worker.ts' }, define: defines() });
// and each subcommand alone (src/cli/subcommands.ts): V8 loads a smaller bundle's code
// cache faster, and `dump` then carries none of the web server, the shell or the agent client
const SUBCOMMANDS = (await import(pathToFileURL(join(root, 'dist', 'src', 'cli', 'subcommands.js')).href)).SUBCOMMANDS.filter(
  (s) => s.ownBundle !== false,
);
await Promise.all(
  SUBCOMMANDS.map((s) => build({ ...common, entryPoints: { [`cli-${s.name}`]: 'src/cli/main.ts' }, define: defines(s.name) })),
);
for (const name of ['cli', ...SUBCOMMANDS.map((s) => `cli-${s.name}`)]) {
  // the launcher compiles the bundle inside a function: a #! line would be a syntax error there
  const file = join(outdir, `${name}.js`);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^#!.*\n/, ''));
}
// the package is "type": "module"; the files here are CommonJS
writeFileSync(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
copyFileSync(join(root, 'scripts', 'launcher.cjs'), join(outdir, 'spyglass.js'));
chmodSync(join(outdir, 'spyglass.js'), 0o755);
