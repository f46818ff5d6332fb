// Is the GIL taken right now? The direct injection makes the stopped main thread wait for
// the GIL (PyGILState_Ensure); that wait cannot be abandoned halfway, so it is started only
// when the GIL is free or its holder is running and will hand it over at the next switch
// interval. Offsets come from the reader's layouts.
import type { ProcessMemory } from '../proc/memory.js';
import { DEBUG_OFFSETS_MAX_SIZE } from '../reader/layouts/debug-offsets.js';
import { layoutFor } from '../reader/layouts/index.js';
import type { PythonTarget } from '../reader/locate.js';

/** true: some thread holds the GIL; false: free; undefined: it could not be read. */
export function gilLocked(target: PythonTarget, mem: ProcessMemory): boolean | undefined {
  try {
    const l = layoutFor(target.version, target.version.minor >= 13 ? mem.read(target.pyRuntime, DEBUG_OFFSETS_MAX_SIZE) : undefined);
    // up to 3.11 the runtime's current thread state is non-NULL exactly while the GIL is held
    if (l.runtime.tstateCurrent !== undefined) return mem.ptr(target.pyRuntime + BigInt(l.runtime.tstateCurrent)) !== 0n;
    // 3.12+: ceval.gil points at the _gil_runtime_state in use, which has a `locked` flag
    if (l.interp.cevalGil !== undefined && l.gil) {
      const interp = mem.ptr(target.pyRuntime + BigInt(l.runtime.interpretersHead));
      const gil = mem.ptr(interp + BigInt(l.interp.cevalGil));
      return mem.i32(gil + BigInt(l.gil.locked)) !== 0;
    }
  } catch {
    // an unreadable layout leaves the decision to the other checks
  }
  return undefined;
}
