// koffi (the FFI that reaches ptrace, waitpid and __cxa_demangle), loaded on first use.
// A static import made every command whose modules reach ptrace (record, for its launch
// mode and --blocking) load koffi's native module at start, ~10 ms of CPU that a plain
// recording never needs (BENCHMARKS.md, "dump start-up").
import { createRequire } from 'node:module';

type Koffi = typeof import('koffi');

let loaded: Koffi | undefined;

export function koffi(): Koffi {
  // from this module's own URL: the bundle's in dist/bin/, or tsc's file in dist/src/proc/
  loaded ??= createRequire(import.meta.url)('koffi') as Koffi;
  return loaded;
}
