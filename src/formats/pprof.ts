// pprof's profile.proto, gzipped: what `go tool pprof`, Pyroscope and Grafana ingest.
// Two values per stack: the sample count and the time it stands for (count × period).
import { gzipSync } from 'node:zlib';
import { Function as PprofFunction, Line, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import type { StackProfile } from '../sampler/profile.js';

export function toPprofProfile(profile: StackProfile): Profile {
  const strings = new StringTable();
  const functions: PprofFunction[] = [];
  const functionIds = new Map<string, number>();
  const locations: Location[] = [];
  // pprof ids start at 1: location id = profile frame index + 1
  for (let i = 0; i < profile.frames.length; i++) {
    const f = profile.frames[i];
    // a native function is one function whatever its line: named with its module, its source file and line in their fields
    const name = f.kind === 'python' ? f.name : f.kind === 'native' ? `${f.name} (${f.filename})` : profile.label(i);
    const filename = f.source ?? f.filename;
    const key = `${name}\0${filename}`;
    let fid = functionIds.get(key);
    if (fid === undefined) {
      fid = functions.length + 1;
      functionIds.set(key, fid);
      functions.push(
        new PprofFunction({ id: fid, name: strings.dedup(name), systemName: strings.dedup(name), filename: strings.dedup(filename) }),
      );
    }
    locations.push(new Location({ id: i + 1, line: [new Line({ functionId: fid, line: f.line })] }));
  }
  const periodNs = Math.round(1e9 / profile.meta.rate);
  const samples = profile.stacks
    .filter((s) => s.count > 0)
    .map((s) => new Sample({ locationId: s.frames.map((f) => f + 1).reverse(), value: [s.count, s.count * periodNs] }));
  return new Profile({
    sampleType: [
      new ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') }),
      new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
    ],
    sample: samples,
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos: BigInt(Math.round(profile.meta.startedAt)) * 1_000_000n,
    durationNanos: Math.round(profile.meta.duration * 1e9),
    periodType: new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
    period: periodNs,
    comment: profile.meta.title ? [strings.dedup(profile.meta.title)] : [],
  });
}

export function toPprof(profile: StackProfile): Buffer {
  return gzipSync(toPprofProfile(profile).encode());
}
