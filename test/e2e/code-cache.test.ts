// The launcher's code cache (scripts/launcher.cjs, docs/bundle.md): made on the first run
// in a directory and a file only this user can write, used by the next runs, replaced when
// V8 refuses it, and neither read nor written where others could have put it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';

function cacheHome(t: { after: (fn: () => void) => void }): { home: string; dir: string } {
  const home = mkdtempSync(join(tmpdir(), 'spyglass-code-cache-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return { home, dir: join(home, 'spyglass') };
}

/** The code caches in dir (the binary facts kept beside them, docs/binary-facts.md, are not counted). */
function codeCaches(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.v8cache'));
}

async function ps(home: string): Promise<string> {
  const run = await runCli(['ps', '--json'], { env: { XDG_CACHE_HOME: home } });
  assert.equal(run.code, 0, run.stderr);
  assert.ok(Array.isArray(JSON.parse(run.stdout)), run.stdout);
  return run.stdout;
}

test('the first run makes a private cache, which the next run keeps', async (t) => {
  const { home, dir } = cacheHome(t);
  await ps(home);
  const files = codeCaches(dir);
  assert.equal(files.length, 1, files.join());
  assert.match(files[0], /^cli-[0-9a-f]+-ps\.v8cache$/);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const file = join(dir, files[0]);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const made = statSync(file);
  await ps(home);
  // taken as it is: not made again
  assert.deepEqual(codeCaches(dir), files);
  assert.equal(statSync(file).ino, made.ino);
});

test('each command has its own cache, holding the functions that command compiled', async (t) => {
  const { home, dir } = cacheHome(t);
  await ps(home);
  const run = await runCli(['dump', '--help'], { env: { XDG_CACHE_HOME: home } });
  assert.equal(run.code, 0, run.stderr);
  const files = codeCaches(dir);
  assert.equal(files.length, 2, files.join());
  assert.ok(
    files.some((f) => /^cli-[0-9a-f]+-dump\.v8cache$/.test(f)),
    files.join(),
  );
  assert.ok(
    files.some((f) => /^cli-[0-9a-f]+-ps\.v8cache$/.test(f)),
    files.join(),
  );
});

test('a recording at a low rate, which switches V8 to baseline code, keeps the cache the first one made', async (t) => {
  // record at <= 200 Hz sets a V8 flag (src/record/optimizer.ts); a cache saved after that,
  // as it was at exit, was often refused by the next run, which compiled from source and
  // wrote it again, in streaks of runs
  const { home, dir } = cacheHome(t);
  const py = discoverPythons().find((p) => p.minor === '3.12') ?? discoverPythons()[0];
  const target = await startTarget(py, 'profile_split.py');
  t.after(() => target.stop());
  const record = async (): Promise<void> => {
    const out = join(home, 'profile.txt');
    const run = await runCli(['record', '-p', String(target.pid), '-d', '0.3', '-r', '100', '-f', 'collapsed', '-o', out], {
      env: { XDG_CACHE_HOME: home },
    });
    assert.equal(run.code, 0, run.stderr);
    // the recording itself ran: the target's busy function is in it
    assert.match(readFileSync(out, 'utf8'), /burn \(.*profile_split\.py:\d+\)/);
  };
  await record();
  const files = codeCaches(dir);
  assert.equal(files.length, 1, files.join());
  assert.match(files[0], /^cli-[0-9a-f]+-record\.v8cache$/);
  const made = statSync(join(dir, files[0]));
  await record();
  await record();
  assert.deepEqual(codeCaches(dir), files);
  const now = statSync(join(dir, files[0]));
  assert.equal(now.ino, made.ino, 'the cache was written again: V8 refused the one the first recording made');
  assert.equal(now.mtimeMs, made.mtimeMs);
});

test('a cache V8 refuses is ignored and made again', async (t) => {
  const { home, dir } = cacheHome(t);
  await ps(home);
  const file = join(dir, codeCaches(dir)[0]);
  const text = readFileSync(file);
  const key = text.subarray(0, text.indexOf(10) + 1);
  // the right key, and bytes that are no V8 cache
  writeFileSync(file, Buffer.concat([key, Buffer.alloc(4096, 0x5a)]));
  await ps(home);
  const again = readFileSync(file);
  assert.ok(again.subarray(0, key.length).equals(key));
  assert.notEqual(again[key.length], 0x5a, 'the refused cache was not replaced');
});

test('no cache is written where another user could write', async (t) => {
  const { home, dir } = cacheHome(t);
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  await ps(home);
  // nor anything else kept between runs (docs/binary-facts.md)
  assert.deepEqual(readdirSync(dir), []);
});

test('the bundle has no import() left of a module outside it: a vm.Script has no dynamic-import callback', () => {
  // esbuild turns import() of a bundled module into a lazy init, but leaves import() of a
  // built-in or external one, which then fails at run time ("A dynamic import callback was
  // not specified") on that command's path only
  const bin = join(PACKAGE_ROOT, 'dist', 'bin');
  for (const file of readdirSync(bin).filter((f) => /^cli(-[a-z]+)?\.js$/.test(f))) {
    const bundle = readFileSync(join(bin, file), 'utf8');
    assert.deepEqual(bundle.match(/\bimport\(\s*["'`][^"'`]*["'`]\s*\)/g) ?? [], [], file);
  }
});

test("a subcommand's own bundle holds that subcommand alone", async () => {
  const bin = join(PACKAGE_ROOT, 'dist', 'bin');
  const dump = readFileSync(join(bin, 'cli-dump.js'), 'utf8');
  const whole = readFileSync(join(bin, 'cli.js'), 'utf8');
  // the web server's and the shell's own texts are in the whole CLI, not in dump's
  for (const text of ['spyglass web: open ', 'a live profile downloads as one of']) {
    assert.ok(whole.includes(text), `cli.js lacks ${text}`);
    assert.ok(!dump.includes(text), `cli-dump.js holds ${text}`);
  }
  assert.ok(dump.length < whole.length * 0.7, `cli-dump.js is ${dump.length} bytes, cli.js ${whole.length}`);
  // and runs as the launcher picks it: dump's help, with no other subcommand registered
  const run = await runCli(['dump', '--help']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /Usage: spyglass dump/);
});
