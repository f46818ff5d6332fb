// Opens an uploaded or saved profile as a StackTable, whatever its format: pprof is
// recognised by its gzip magic (or by decoding as protobuf when it is not text),
// speedscope by being JSON, anything else is read as collapsed stacks. Every input is
// parsed as data with bounded sizes; nothing is evaluated.
import { gunzipSync } from 'node:zlib';
import type { StackTable } from '../stack-table.js';
import { parseCollapsed } from './collapsed.js';
import { ProfileFormatError } from './errors.js';
import { parsePprof } from './pprof.js';
import { parseSpeedscope } from './speedscope.js';

export { ProfileFormatError } from './errors.js';

/** A gzip bomb must not take the server's memory: what a profile may unpack to. */
export const MAX_UNPACKED_BYTES = 256 * 1024 * 1024;

/** NUL and the other control characters no text profile holds (tab, newlines, form feed are fine). */
function hasControlBytes(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x09 || (c > 0x0d && c < 0x20)) return true;
  }
  return false;
}

export function openProfile(bytes: Buffer, name: string): StackTable {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    let raw: Buffer;
    try {
      raw = gunzipSync(bytes, { maxOutputLength: MAX_UNPACKED_BYTES });
    } catch (e) {
      throw new ProfileFormatError(`the gzip data cannot be unpacked: ${(e as Error).message}`);
    }
    return parsePprof(raw, name);
  }
  const text = bytes.toString('utf8');
  const isText = !text.includes('\ufffd') && !hasControlBytes(text.slice(0, 4096));
  if (!isText) return parsePprof(bytes, name);
  const start = text.trimStart()[0];
  if (start === '{' || start === '[') {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new ProfileFormatError(`the file is not valid JSON: ${(e as Error).message}`);
    }
    return parseSpeedscope(doc, name);
  }
  return parseCollapsed(text, name);
}
