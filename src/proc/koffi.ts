// koffi (the FFI that reaches ptrace, waitpid and __cxa_demangle), loaded on first use.
// A static import made every command whose modules reach ptrace (record, for its launch
// mode and --blocking) load koffi's native module at start, ~10 ms of CPU that a plain
// recording never needs (BENCHMARKS.md, "dump start-up").
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type Koffi = typeof import('koffi');

let loaded: Koffi | undefined;

export function koffi(): Koffi {
  // from this module's own URL: the bundle's in dist/bin/, or tsc's file in dist/src/proc/
  loaded ??= createRequire(import.meta.url)(koffiEntry() ?? 'koffi') as Koffi;
  return loaded;
}

/**
 * koffi's CommonJS entry file, found the way Node's resolver would (the nearest
 * node_modules/koffi above this file) but read from its package.json directly: resolving
 * the bare name through the package's "exports" made Node load and compile its ES module
 * resolver, about half of koffi's load time (~6 ms of CPU, 15-20 ms of wall at each
 * `--native` start; docs/bundle.md). undefined when not found: then Node resolves it.
 */
function koffiEntry(): string | undefined {
  try {
    // (the global URL: node:url is not loaded at start, docs/bundle.md)
    for (let dir = dirname(decodeURIComponent(new URL(import.meta.url).pathname)); ; dir = dirname(dir)) {
      const pkgDir = join(dir, 'node_modules', 'koffi');
      if (existsSync(join(pkgDir, 'package.json'))) {
        const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
        const entry = pkg.exports?.['.']?.require ?? pkg.main;
        return typeof entry === 'string' ? join(pkgDir, entry) : undefined;
      }
      if (dirname(dir) === dir) return undefined;
    }
  } catch {
    return undefined;
  }
}
