// pprof's profile.proto (gzipped or not), as `go tool pprof`, Pyroscope and spyglass write
// it. Decoded with pprof-format: plain data, nothing in it is run.
import { Profile } from 'pprof-format';
import type { StackTable } from '../stack-table.js';
import { ProfileFormatError } from './errors.js';
import { FrameInterner, splitLabel } from './labels.js';

export function parsePprof(bytes: Uint8Array, title: string): StackTable {
  let p: Profile;
  try {
    p = Profile.decode(bytes);
  } catch (e) {
    throw new ProfileFormatError(`not a pprof profile: ${(e as Error).message}`);
  }
  const str = (i: number | bigint | undefined) => p.stringTable.strings[Number(i ?? 0)] ?? '';
  const functions = new Map(p.function.map((f) => [Number(f.id), f]));
  const frames = new FrameInterner();
  /** per location: its frames, innermost first (inlined calls come first) */
  const locations = new Map<number, number[]>();
  for (const loc of p.location) {
    const ids = loc.line.map((l) => {
      const fn = functions.get(Number(l.functionId));
      const name = fn ? str(fn.name) : `0x${Number(loc.address ?? 0).toString(16)}`;
      const file = fn ? str(fn.filename) : '';
      if (!file) return frames.id(splitLabel(name));
      const short = file.slice(file.lastIndexOf('/') + 1);
      return frames.id([name, Number(l.line) > 0 ? `${short}:${Number(l.line)}` : short, 'python']);
    });
    locations.set(Number(loc.id), ids.length ? ids : [frames.id([`0x${Number(loc.address ?? 0).toString(16)}`, '', 'native'])]);
  }
  // the first value is the sample count in spyglass's, py-spy's and Go's CPU profiles
  const valueType = p.sampleType[0];
  const stacks = new Map<string, [number[], number]>();
  for (const s of p.sample) {
    const leafFirst: number[] = [];
    for (const lid of s.locationId) {
      const ids = locations.get(Number(lid));
      if (!ids) throw new ProfileFormatError(`not a pprof profile: a sample names location ${Number(lid)}, which is not defined`);
      leafFirst.push(...ids);
    }
    const count = Number(s.value[0] ?? 0);
    if (!(count > 0)) continue;
    const path = leafFirst.reverse();
    const key = path.join(',');
    const known = stacks.get(key);
    if (known) known[1] += count;
    else stacks.set(key, [path, count]);
  }
  if (!stacks.size) throw new ProfileFormatError('the pprof profile holds no samples');
  const period = Number(p.period ?? 0);
  const comment = p.comment?.length ? str(p.comment[0]) : '';
  return {
    title: comment || title,
    subtitle: `pprof · ${valueType ? `${str(valueType.type)}/${str(valueType.unit)}` : 'values'} · ${stacks.size} unique stacks`,
    frames: frames.frames,
    stacks: [...stacks.values()],
    rate: period > 0 && str(p.periodType?.unit) === 'nanoseconds' ? Math.round(1e9 / period) : undefined,
  };
}
