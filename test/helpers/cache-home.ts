// A private $XDG_CACHE_HOME for the tests of one describe(): what spyglass keeps between
// runs (src/cache-dir.ts) goes there, not into the user's ~/.cache.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

/**
 * Registers before/after hooks in the calling describe(): a fresh directory is the cache
 * home for its tests; the old value comes back and the directory goes after them. Returns
 * the directory's path (read it inside a hook or a test, once the hooks have run).
 */
export function tempCacheHome(prefix: string): () => string {
  let home = '';
  const saved = process.env.XDG_CACHE_HOME;
  before(() => {
    home = mkdtempSync(join(tmpdir(), prefix));
    process.env.XDG_CACHE_HOME = home;
  });
  after(() => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    rmSync(home, { recursive: true, force: true });
  });
  return () => home;
}
