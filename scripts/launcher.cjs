#!/usr/bin/env node
// The `spyglass` command, copied to dist/bin/spyglass.js by scripts/bundle.mjs: runs the
// CommonJS bundle dist/bin/cli.js through V8's code cache (docs/bundle.md). Compiling the
// bundle's code, and the functions a command then runs, was a large share of a `dump`'s
// start-up; with the cache V8 takes the bytecode it made last time instead. The cache is
// bytecode that will run: it is only ever read from a directory and a file that belong to
// this user and nobody else can write, and it is keyed by the bundle it was made from.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Script } = require('node:vm');


/**
 * The subcommand this run names, for its own cache: a cache holds the functions the run
 * that made it compiled, so one made by `record` had none of `dump`'s (which then compiled
 * them at every run) and carried record's for dump to load. Anything else (a pid for the
 * shell, help) shares one.
 */
function commandName() {
  const word = process.argv.slice(2).find((a) => !a.startsWith('-'));
  return word && /^[a-z][a-z-]{0,23}$/.test(word) ? word : 'other';
}

const COMMAND = commandName();
// the subcommand's own bundle when it has one (smaller: faster to load), else the whole CLI
const BUNDLE = (() => {
  const own = path.join(__dirname, `cli-${COMMAND}.js`);
  return COMMAND !== 'other' && fs.existsSync(own) ? own : path.join(__dirname, 'cli.js');
})();

/** Where this bundle's cache for this command lives, or undefined without a home directory. */
function cachePaths() {
  const base = process.env.XDG_CACHE_HOME || (process.env.HOME && path.join(process.env.HOME, '.cache'));
  if (!base || !path.isAbsolute(base)) return undefined;
  // one file per installed bundle (FNV-1a of its path) and command: a rebuild replaces them
  let h = 0x811c9dc5;
  for (let i = 0; i < BUNDLE.length; i++) h = Math.imul(h ^ BUNDLE.charCodeAt(i), 0x01000193) >>> 0;
  const dir = path.join(base, 'spyglass');
  return { dir, file: path.join(dir, `cli-${h.toString(16)}-${COMMAND}.v8cache`) };
}

/** The stat of path if it is ours and only we can write it (a directory: only we can enter it). */
function private_(st, dir) {
  const uid = process.getuid();
  return st.uid === uid && (st.mode & (dir ? 0o077 : 0o022)) === 0;
}

/** The cached data made for `key`, when there is one to trust. */
function readCache(paths, key) {
  try {
    if (!private_(fs.lstatSync(paths.dir), true)) return undefined;
    const fd = fs.openSync(paths.file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile() || !private_(st, false)) return undefined;
      const data = fs.readFileSync(fd);
      const nl = data.indexOf(10);
      return nl > 0 && data.toString('latin1', 0, nl) === key ? data.subarray(nl + 1) : undefined;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined; // no cache yet, or none to be had: compile from source
  }
}

function writeCache(paths, key, data) {
  try {
    fs.mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    if (!private_(fs.lstatSync(paths.dir), true)) return;
    const tmp = `${paths.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${key}\n`, 'latin1'), data]), { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, paths.file); // whole or not at all, whatever other runs do meanwhile
  } catch {
    // a read-only home, a full disk: the next run compiles from source again
  }
}

const source = fs.readFileSync(BUNDLE, 'utf8');
const st = fs.statSync(BUNDLE);
// V8 checks its own version, flags and the source's length; the rest is ours to check
const key = [process.version, process.arch, st.dev, st.ino, st.size, st.mtimeMs].join(' ');
const paths = cachePaths();
const cachedData = paths && readCache(paths, key);
// the module wrapper Node gives a CommonJS file, on the source's first line so that line numbers hold
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: BUNDLE,
  cachedData,
});
// made at exit, it also holds the functions this run compiled; or earlier, when the bundle
// is about to change a V8 flag (record's baseline-only code, src/record/optimizer.ts): V8
// stamps the cache with a hash of its flags, and after a change, even one undone, that hash
// often no longer matches a fresh run's, which then refused the cache, compiled the bundle
// from source and wrote another one that the next run could refuse again: streaks of it
let unsaved = Boolean(paths && (!cachedData || script.cachedDataRejected));
function saveCodeCache() {
  if (!unsaved) return;
  unsaved = false;
  writeCache(paths, key, script.createCachedData());
}
globalThis[Symbol.for('spyglass.beforeV8FlagChange')] = saveCodeCache;
process.once('exit', saveCodeCache);
const bundle = { exports: {} };
// the launcher's own require: it lives next to the bundle, so it resolves what the bundle
// requires (koffi) as the bundle's would, without loading node:module (~2 ms) for createRequire
script.runInThisContext()(bundle.exports, require, bundle, BUNDLE, __dirname);
