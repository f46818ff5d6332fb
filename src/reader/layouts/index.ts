// Chooses the layout for a target: the generated table for 3.8-3.12, the target's own
// _Py_DebugOffsets for 3.13+ (chosen by the version field it carries).
import { NotPythonError } from '../../errors.js';
import type { PythonVersion } from '../locate.js';
import { debugOffsetsVersion, layoutFromDebugOffsets, parseDebugOffsets } from './debug-offsets.js';
import { TABLE_MINORS, tableLayout } from './tables.js';
import type { Layout } from './types.js';

export type { Layout } from './types.js';

const DEBUG_MINORS = [13, 14];
export const SUPPORTED_MINORS = [...TABLE_MINORS, ...DEBUG_MINORS];

/**
 * The layout for a Python version. `debugOffsets` is the memory at _PyRuntime (at least
 * DEBUG_OFFSETS_MAX_SIZE bytes) and is needed from 3.13 on.
 */
export function layoutFor(version: PythonVersion, debugOffsets?: Buffer): Layout {
  const unsupported = (why: string) =>
    new NotPythonError(
      `Python ${version.text} is not supported: ${why}`,
      `spyglass reads CPython ${SUPPORTED_MINORS.map((m) => `3.${m}`).join(', ')} (release builds)`,
    );
  if (version.major !== 3) throw unsupported('not CPython 3');
  const table = tableLayout(version.minor);
  if (table) return table;
  if (!DEBUG_MINORS.includes(version.minor)) throw unsupported(`no layout for 3.${version.minor}`);
  const found = debugOffsets && debugOffsetsVersion(debugOffsets);
  if (found === undefined) throw unsupported('its _PyRuntime has no _Py_DebugOffsets header');
  const minor = (found >>> 16) & 0xff;
  if (minor !== version.minor) throw unsupported(`its _Py_DebugOffsets says 3.${minor}`);
  const parsed = parseDebugOffsets(debugOffsets!);
  if (parsed.freeThreaded) throw unsupported('free-threaded builds use another object layout');
  return layoutFromDebugOffsets(parsed);
}
