// speedscope's JSON file format (https://www.speedscope.app/file-format-schema.json):
// "sampled" profiles (stacks and weights) and "evented" ones (open/close events), each
// under a root frame named after the profile when there are several (one per thread).
import type { StackTable } from '../stack-table.js';
import { ProfileFormatError } from './errors.js';
import { FrameInterner } from './labels.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(what: string): never {
  throw new ProfileFormatError(`not a speedscope profile: ${what}`);
}

export function parseSpeedscope(doc: unknown, title: string): StackTable {
  if (!isObject(doc)) fail('the JSON is not an object');
  const shared = doc.shared;
  if (!isObject(shared) || !Array.isArray(shared.frames)) fail('no shared.frames array');
  if (!Array.isArray(doc.profiles) || !doc.profiles.length) fail('no profiles array');
  const src = shared.frames.map((f, i): [string, string, string] => {
    if (!isObject(f) || typeof f.name !== 'string') fail(`frame ${i} has no name`);
    const file = typeof f.file === 'string' ? f.file.slice(f.file.lastIndexOf('/') + 1) : '';
    const line = typeof f.line === 'number' && f.line > 0 ? `:${f.line}` : '';
    return [f.name, file + (file ? line : ''), 'python'];
  });
  const frames = new FrameInterner();
  const ids = src.map((f) => frames.id(f));
  const frameId = (i: unknown): number => {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= ids.length) fail(`frame index ${String(i)} out of range`);
    return ids[i];
  };
  const many = doc.profiles.length > 1;
  const stacks = new Map<string, [number[], number]>();
  const add = (path: number[], weight: number) => {
    if (!(weight > 0)) return;
    const key = path.join(',');
    const known = stacks.get(key);
    if (known) known[1] += weight;
    else stacks.set(key, [path, weight]);
  };
  let unit = '';
  let commonWeight: number | undefined;
  let constant = true;
  doc.profiles.forEach((p, pi) => {
    if (!isObject(p)) fail(`profile ${pi} is not an object`);
    unit = typeof p.unit === 'string' ? p.unit : unit;
    const root = many ? [frames.id([`thread ${pi} "${typeof p.name === 'string' ? p.name : pi}"`, '', 'thread'])] : [];
    if (p.type === 'sampled') {
      const weights = p.weights;
      if (!Array.isArray(p.samples) || !Array.isArray(weights) || p.samples.length !== weights.length)
        fail(`profile ${pi}: samples and weights differ`);
      p.samples.forEach((s, si) => {
        if (!Array.isArray(s)) fail(`profile ${pi}: sample ${si} is not an array`);
        const w = Number(weights[si]);
        if (!Number.isFinite(w)) fail(`profile ${pi}: weight ${si} is not a number`);
        if (commonWeight === undefined) commonWeight = w;
        else if (w !== commonWeight) constant = false;
        add([...root, ...s.map(frameId)], w);
      });
    } else if (p.type === 'evented') {
      if (!Array.isArray(p.events)) fail(`profile ${pi}: no events array`);
      constant = false;
      const open: number[] = [];
      let last = Number(p.startValue ?? 0);
      for (const e of p.events) {
        if (!isObject(e) || (e.type !== 'O' && e.type !== 'C') || typeof e.at !== 'number')
          fail(`profile ${pi}: an event is not {type: "O"|"C", at, frame}`);
        if (open.length) add([...root, ...open], e.at - last);
        last = e.at;
        if (e.type === 'O') open.push(frameId(e.frame));
        else open.pop();
      }
    } else fail(`profile ${pi} has type ${JSON.stringify(p.type)} (sampled or evented expected)`);
  });
  if (!stacks.size) fail('it holds no samples');
  // equal weights (spyglass, py-spy): one sample each, and the weight gives the rate
  const sampled = constant && commonWeight !== undefined && commonWeight > 0;
  const rows = [...stacks.values()].map(([path, w]): [number[], number] => [path, sampled ? Math.round(w / commonWeight!) : w]);
  const rate = sampled && unit === 'seconds' ? Math.round(1 / commonWeight!) : undefined;
  return {
    title: typeof doc.name === 'string' && doc.name ? doc.name : title,
    subtitle: `speedscope · ${doc.profiles.length} profile${many ? 's' : ''}${sampled ? '' : ` · weights in ${unit || 'units'}`}`,
    frames: frames.frames,
    stacks: rows,
    rate,
  };
}
