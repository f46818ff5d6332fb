// Is the GIL taken right now? The direct injection makes the stopped main thread wait for
// the GIL (PyGILState_Ensure); that wait cannot be abandoned halfway, so it is started only
// when the GIL is free or its holder is running and will hand it over at the next switch
// interval. The offsets come from the reader's per-version layout tables.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';
import type { ProcessMemory } from '../proc/memory.js';
import type { PythonTarget } from '../reader/locate.js';

interface GilLayout {
  runtime: { interpretersHead: number; tstateCurrent?: number };
  interp: { cevalGil?: number };
  gil?: { locked: number };
}

function layout(minor: number): GilLayout | undefined {
  try {
    return JSON.parse(readFileSync(join(PACKAGE_ROOT, 'src', 'reader', 'layouts', `v3_${minor}.json`), 'utf8')) as GilLayout;
  } catch {
    return undefined;
  }
}

/** true: some thread holds the GIL; false: free; undefined: this version's layout is unknown. */
export function gilLocked(target: PythonTarget, mem: ProcessMemory): boolean | undefined {
  const l = layout(target.version.minor);
  if (!l) return undefined;
  try {
    // 3.8–3.11: the runtime's current thread state is non-NULL exactly while the GIL is held
    if (l.runtime.tstateCurrent !== undefined) return mem.ptr(target.pyRuntime + BigInt(l.runtime.tstateCurrent)) !== 0n;
    // 3.12+: the interpreter's _gil_runtime_state has a `locked` flag
    if (l.interp.cevalGil !== undefined && l.gil) {
      const interp = mem.ptr(target.pyRuntime + BigInt(l.runtime.interpretersHead));
      const gil = mem.ptr(interp + BigInt(l.interp.cevalGil));
      return mem.i32(gil + BigInt(l.gil.locked)) !== 0;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
