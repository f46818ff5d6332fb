import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { Profile as PprofProfile } from 'pprof-format';
import { StackProfile } from '../../src/sampler/profile.js';
import { TopStats } from '../../src/sampler/top-stats.js';
import type { Frame, ThreadSample } from '../../src/sampler/types.js';
import { toCollapsed, collapsedLabel } from '../../src/formats/collapsed.js';
import { SPEEDSCOPE_SCHEMA, toSpeedscope } from '../../src/formats/speedscope.js';
import { toPprof } from '../../src/formats/pprof.js';
import { toChromeTrace, type TraceEvent } from '../../src/formats/chrometrace.js';
import { flameData, toFlamegraphHtml, toFlamegraphSvg } from '../../src/formats/flamegraph.js';
import { shortFilename } from '../../src/sampler/filenames.js';
import { unusedPath } from '../../src/formats/index.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fr = (name: string, line: number, filename = '/app/work.py', firstLine?: number): Frame => ({ name, filename, line, firstLine });
const thread = (frames: Frame[], threadId = 1, name = 'MainThread', nativeTid = 100): ThreadSample => ({
  threadId,
  nativeTid,
  name,
  holdsGil: true,
  active: true,
  frames,
});

/** main -> busy (3 samples at line 5, 1 at line 6), main -> light (2 samples); a worker thread idle in wait (1). */
function sampleProfile(opts: ConstructorParameters<typeof StackProfile>[0] = {}): StackProfile {
  const p = new StackProfile({ timeline: true, ...opts }, { title: 'python app.py --n 3', rate: 100, duration: 0.07 });
  const busy5 = thread([fr('busy', 5, '/app/work.py', 4), fr('main', 20, '/app/work.py', 18)]);
  const busy6 = thread([fr('busy', 6, '/app/work.py', 4), fr('main', 20, '/app/work.py', 18)]);
  const light = thread([fr('light', 12, '/app/work.py', 11), fr('main', 21, '/app/work.py', 18)]);
  const worker = thread([fr('wait', 300, '/usr/lib/python3.11/threading.py'), fr('run', 8, '/app/work.py')], 2, 'worker', 101);
  const ticks: ThreadSample[][] = [[busy5], [busy5, worker], [busy6], [light], [light], [busy5], [busy5]];
  ticks.forEach((samples, i) => {
    p.tick(i * 0.01);
    for (const t of samples) p.add({ pid: 42, thread: t });
  });
  return p;
}

describe('StackProfile aggregate', () => {
  test('counts stacks and builds a tree with totals and self counts', () => {
    const p = sampleProfile();
    assert.equal(p.total, 8);
    assert.equal(p.meta.ticks, 7);
    const tree = p.tree();
    assert.equal(tree.total, 8);
    const main = tree.children.find((c) => p.frames[c.frame].name === 'main' && p.frames[c.frame].line === 20)!;
    assert.equal(main.total, 5);
    assert.deepEqual(
      main.children.map((c) => [p.label(c.frame), c.total, c.self]),
      [
        ['busy (/app/work.py:5)', 4, 4],
        ['busy (/app/work.py:6)', 1, 1],
      ],
    );
  });

  test('--nolineno merges the lines of a function; --function keys frames by their first line', () => {
    const noline = sampleProfile({ lineNumbers: false });
    assert.match(toCollapsed(noline), /^main \(\/app\/work\.py\);busy \(\/app\/work\.py\) 5$/m);
    const byFunc = sampleProfile({ byFunction: true });
    assert.match(toCollapsed(byFunc), /^main \(\/app\/work\.py:18\);busy \(\/app\/work\.py:4\) 5$/m);
    assert.match(toCollapsed(byFunc), /^main \(\/app\/work\.py:18\);light \(\/app\/work\.py:11\) 2$/m);
  });

  test('--threads adds a root frame per thread; --subprocesses a root frame per process', () => {
    const p = sampleProfile({ threadRoots: true, processRoots: true });
    p.setProcessName(42, 'python app.py');
    const text = toCollapsed(sampleProfile({ threadRoots: true }));
    assert.match(text, /^thread 101 "worker";run \(\/app\/work\.py:8\);wait \(\/usr\/lib\/python3\.11\/threading\.py:300\) 1$/m);
    assert.match(text, /^thread 100 "MainThread";main \(\/app\/work\.py:20\);busy \(\/app\/work\.py:5\) 4$/m);
    // the process name is taken when the process is first seen
    p.tick(1);
    p.add({ pid: 42, thread: thread([fr('busy', 5)]) });
    assert.match(toCollapsed(p), /^process 42: "python app\.py";thread 100 "MainThread";busy \(\/app\/work\.py:5\) 1$/m);
  });

  test('short file names cut below the topmost package', () => {
    const packages = new Set(['/srv/site-packages/django', '/srv/site-packages/django/db']);
    const isPkg = (d: string) => packages.has(d);
    assert.equal(shortFilename('/srv/site-packages/django/db/query.py', '', isPkg), 'django/db/query.py');
    assert.equal(shortFilename('/home/me/app.py', '', isPkg), 'app.py');
    assert.equal(shortFilename('<frozen importlib._bootstrap>', '', isPkg), '<frozen importlib._bootstrap>');
  });
});

describe('collapsed', () => {
  test('one "a;b;c N" line per stack, root first, counts summing to the total', () => {
    const text = toCollapsed(sampleProfile());
    const lines = text.trimEnd().split('\n');
    assert.deepEqual(lines, [
      'main (/app/work.py:20);busy (/app/work.py:5) 4',
      'main (/app/work.py:20);busy (/app/work.py:6) 1',
      'main (/app/work.py:21);light (/app/work.py:12) 2',
      'run (/app/work.py:8);wait (/usr/lib/python3.11/threading.py:300) 1',
    ]);
    assert.equal(collapsedLabel('a;b\nc'), 'a:b c');
  });
});

// The constraints of https://www.speedscope.app/file-format-schema.json that a sampled
// profile must meet, checked by a small validator for the JSON-schema keywords it uses.
// A frame's file, line and col may also be null, as py-spy writes them (speedscope loads
// those files; scripts made for them expect every key).
type Schema = {
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
};
const NUM: Schema = { type: 'number' };
const SPEEDSCOPE_FILE: Schema = {
  type: 'object',
  required: ['$schema', 'profiles', 'shared'],
  properties: {
    $schema: { type: 'string', enum: [SPEEDSCOPE_SCHEMA] },
    shared: {
      type: 'object',
      required: ['frames'],
      properties: {
        frames: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name'],
            properties: {
              name: { type: 'string' },
              file: { type: 'string', nullable: true },
              line: { ...NUM, nullable: true },
              col: { ...NUM, nullable: true },
            },
          },
        },
      },
    },
    profiles: {
      type: 'array',
      items: {
        type: 'object',
        required: ['endValue', 'name', 'samples', 'startValue', 'type', 'unit', 'weights'],
        properties: {
          type: { type: 'string', enum: ['sampled'] },
          name: { type: 'string' },
          unit: { type: 'string', enum: ['bytes', 'microseconds', 'milliseconds', 'nanoseconds', 'none', 'seconds'] },
          startValue: NUM,
          endValue: NUM,
          samples: { type: 'array', items: { type: 'array', items: NUM } },
          weights: { type: 'array', items: NUM },
        },
      },
    },
    name: { type: 'string' },
    activeProfileIndex: NUM,
    exporter: { type: 'string' },
  },
};
function validate(value: unknown, schema: Schema, path = '$'): string[] {
  const errs: string[] = [];
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  if (schema.nullable && value === null) return [];
  if (schema.type && actual !== schema.type) return [`${path}: expected ${schema.type}, got ${actual}`];
  if (schema.enum && !schema.enum.includes(value)) errs.push(`${path}: ${String(value)} not in enum`);
  if (actual === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) errs.push(`${path}: missing ${r}`);
    for (const [k, s] of Object.entries(schema.properties ?? {})) if (k in obj) errs.push(...validate(obj[k], s, `${path}.${k}`));
  }
  if (actual === 'array' && schema.items) (value as unknown[]).forEach((v, i) => errs.push(...validate(v, schema.items!, `${path}[${i}]`)));
  return errs;
}

describe('speedscope', () => {
  test('valid against the file format schema, one sampled profile per thread in time order', () => {
    const p = sampleProfile();
    const file = JSON.parse(JSON.stringify(toSpeedscope(p)));
    assert.deepEqual(validate(file, SPEEDSCOPE_FILE), []);
    assert.equal(file.profiles.length, 2);
    const [main, worker] = file.profiles;
    assert.equal(main.name, 'Thread 100 "MainThread"');
    assert.equal(worker.name, 'Thread 101 "worker"');
    assert.equal(main.samples.length, 7);
    assert.equal(main.weights.length, 7);
    assert.ok(Math.abs(main.endValue - 0.07) < 1e-9);
    // samples are root first and in time order: busy, busy, busy(6), light, light, busy, busy
    const leaf = (s: number[]) => file.shared.frames[s[s.length - 1]];
    assert.deepEqual(
      main.samples.map((s: number[]) => `${leaf(s).name}:${leaf(s).line}`),
      ['busy:5', 'busy:5', 'busy:6', 'light:12', 'light:12', 'busy:5', 'busy:5'],
    );
    assert.equal(file.shared.frames[main.samples[0][0]].name, 'main');
    assert.equal(file.shared.frames[main.samples[0][0]].file, '/app/work.py');
    for (const f of file.shared.frames)
      assert.deepEqual(Object.keys(f).sort(), ['col', 'file', 'line', 'name'], 'as py-spy writes a frame');
    assert.equal(file.activeProfileIndex, 0);
  });

  test('without a timeline the aggregated stacks are one profile with weights by count', () => {
    const file = toSpeedscope(sampleProfile({ timeline: false }));
    assert.deepEqual(validate(JSON.parse(JSON.stringify(file)), SPEEDSCOPE_FILE), []);
    assert.equal(file.profiles.length, 1);
    assert.ok(Math.abs(file.profiles[0].endValue - 0.08) < 1e-9);
  });
});

describe('pprof', () => {
  test('gzipped profile.proto that pprof-format decodes with the right sample counts and names', () => {
    const buf = toPprof(sampleProfile());
    assert.deepEqual([...buf.subarray(0, 2)], [0x1f, 0x8b]);
    const prof = PprofProfile.decode(gunzipSync(buf));
    const str = (i: number | bigint) => prof.stringTable.strings[Number(i)];
    assert.deepEqual(
      prof.sampleType.map((t) => `${str(t.type)}/${str(t.unit)}`),
      ['samples/count', 'cpu/nanoseconds'],
    );
    assert.equal(Number(prof.period), 10_000_000);
    const fnById = new Map(prof.function.map((f) => [Number(f.id), str(f.name)]));
    const locById = new Map(
      prof.location.map((l) => [Number(l.id), l.line.map((ln) => `${fnById.get(Number(ln.functionId))}:${Number(ln.line)}`)[0]]),
    );
    const stacks = new Map<string, number>();
    let total = 0;
    for (const s of prof.sample) {
      // pprof stacks are leaf first
      const key = s.locationId.map((id) => locById.get(Number(id))).join('<');
      stacks.set(key, Number(s.value[0]));
      assert.equal(Number(s.value[1]), Number(s.value[0]) * 10_000_000);
      total += Number(s.value[0]);
    }
    assert.equal(total, 8);
    assert.equal(stacks.get('busy:5<main:20'), 4);
    assert.equal(stacks.get('light:12<main:21'), 2);
    assert.equal(stacks.get('wait:300<run:8'), 1);
    assert.equal(str(prof.comment[0]), 'python app.py --n 3');
  });
});

describe('chrometrace', () => {
  test('balanced B/E events per thread, diffed between samples, closed when a thread goes idle', () => {
    const events = toChromeTrace(sampleProfile());
    const main = events.filter((e) => e.tid === 100 && e.ph !== 'M');
    const worker = events.filter((e) => e.tid === 101 && e.ph !== 'M');
    assert.ok(events.some((e) => e.ph === 'M' && e.name === 'thread_name' && (e.args as { name: string }).name === 'worker'));
    const balanced = (evs: TraceEvent[]) => {
      const stack: string[] = [];
      let lastTs = -1;
      for (const e of evs) {
        assert.ok(e.ts! >= lastTs, 'timestamps never go back');
        lastTs = e.ts!;
        if (e.ph === 'B') stack.push(e.name);
        else assert.equal(stack.pop(), e.name);
      }
      assert.equal(stack.length, 0);
    };
    balanced(main);
    balanced(worker);
    // a frame is a function at a line: a new line closes and reopens it
    const opens = main.filter((e) => e.ph === 'B').map((e) => `${e.name}@${e.ts}`);
    assert.deepEqual(opens, ['main@0', 'busy@0', 'busy@20000', 'main@30000', 'light@30000', 'main@50000', 'busy@50000']);
    // the worker was seen at tick 1 only: its frames close at the next instant (10 ms later)
    assert.deepEqual(
      worker.map((e) => `${e.ph}${e.name}@${e.ts}`),
      ['Brun@10000', 'Bwait@10000', 'Ewait@20000', 'Erun@20000'],
    );
    assert.deepEqual(main.find((e) => e.name === 'busy')!.args as { filename: string; line: number }, {
      filename: '/app/work.py',
      line: 5,
    });
  });
});

describe('flamegraph', () => {
  test('data carries labels, totals and a title with the command line and sample count', () => {
    const d = flameData(sampleProfile());
    assert.equal(d.title, 'python app.py --n 3');
    assert.match(d.subtitle, /^7 samples · 8 thread samples · 100 Hz/);
    assert.equal(d.tree[1], 8);
    const busy = d.frames.findIndex((f) => f[0] === 'busy' && f[1] === '/app/work.py:5');
    assert.ok(busy >= 0);
  });

  test('HTML is self-contained: inline script and data, no external resources, script-safe JSON', () => {
    const p = sampleProfile();
    p.meta.title = 'python evil.py </script><img src=x>';
    const html = toFlamegraphHtml(p);
    assert.ok(html.startsWith('<!doctype html>'));
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/);
    assert.equal(html.match(/<\/script>/g)!.length, 1, 'the title cannot close the script element');
    assert.match(html, /&lt;\/script&gt;&lt;img src=x&gt;<\/title>/);
    assert.match(html, /function flamegraphApp\(data, host\)/);
  });

  test('SVG is a standalone SVG document with the script in CDATA', () => {
    const svg = toFlamegraphSvg(sampleProfile());
    assert.match(svg, /^<\?xml[^>]*\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal(svg.match(/\]\]>/g)!.length, 1);
    assert.match(svg, /, 'svg'\);/);
  });
});

describe('default output names', () => {
  test('an existing file is never the default: a number goes before the extensions', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'spyglass-names-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    assert.equal(unusedPath(dir, 'flamegraph.html'), join(dir, 'flamegraph.html'));
    writeFileSync(join(dir, 'flamegraph.html'), '');
    writeFileSync(join(dir, 'flamegraph-2.html'), '');
    assert.equal(unusedPath(dir, 'flamegraph.html'), join(dir, 'flamegraph-3.html'));
    writeFileSync(join(dir, 'profile.pb.gz'), '');
    assert.equal(unusedPath(dir, 'profile.pb.gz'), join(dir, 'profile-2.pb.gz'));
    writeFileSync(join(dir, 'profile.speedscope.json'), '');
    assert.equal(unusedPath(dir, 'profile.speedscope.json'), join(dir, 'profile-2.speedscope.json'));
  });
});

test('timelineCap: past the cap the oldest half of the timeline goes, each kept sample still at its own time; the aggregate counts all', () => {
  const p = new StackProfile({ timeline: true, timelineCap: 10 });
  const fr = (name: string): Frame => ({ name, filename: 'app.py', line: 1 });
  const thread = (name: string, frames: Frame[]): ThreadSample => ({
    threadId: 1,
    nativeTid: 7,
    name,
    holdsGil: true,
    active: true,
    frames,
  });
  for (let i = 0; i < 25; i++) {
    p.tick(i / 100);
    // the sample's function names its instant, so each kept sample can be checked against its time
    p.add({ pid: 1, thread: thread('main', [fr(`at${i}`)]) });
  }
  assert.equal(p.total, 25);
  const tl = [...p.timelines.values()][0];
  assert.ok(tl.ticks.length <= 10 && tl.ticks.length > 0, `${tl.ticks.length} samples kept`);
  assert.equal(p.tickTimes.length + p.timelineDropped, 25);
  tl.ticks.forEach((tick, i) => {
    const instant = Math.round(p.tickTimes[tick] * 100);
    assert.equal(p.frames[p.stacks[tl.stacks[i]].frames[0]].name, `at${instant}`);
  });
  // the most recent instant is kept, and the formats that read the timeline still build
  assert.equal(p.tickTimes[p.tickTimes.length - 1], 0.24);
  assert.ok(toChromeTrace(p).length > 0);
});

describe('native frames with a source line', () => {
  const native = (name: string, filename: string, line: number): Frame => ({ kind: 'native', name, filename, line, module: 'liblines.so' });
  const stack = () =>
    thread([native('hold_inner', '/src/lines.c', 8), native('hold_outer', '/src/lines.c', 12), native('helper', '', 0), fr('main', 20)]);

  test('labels carry the source file and line before the module; --nolineno and --function keep the file only', () => {
    const labels = (opts: ConstructorParameters<typeof StackProfile>[0]) => {
      const p = new StackProfile(opts);
      p.add({ pid: 1, thread: stack() });
      return p.stacks[0].frames.map((f) => p.label(f));
    };
    assert.deepEqual(labels({}), [
      'main (/app/work.py:20)',
      'helper (liblines.so)',
      'hold_outer (lines.c:12, liblines.so)',
      'hold_inner (lines.c:8, liblines.so)',
    ]);
    assert.deepEqual(labels({ lineNumbers: false }).slice(2), ['hold_outer (lines.c, liblines.so)', 'hold_inner (lines.c, liblines.so)']);
    assert.deepEqual(labels({ byFunction: true }).slice(2), ['hold_outer (lines.c, liblines.so)', 'hold_inner (lines.c, liblines.so)']);
  });

  test("top's rows show a native function's source file and module", () => {
    const stats = new TopStats(100);
    const s = { pid: 1, thread: stack() };
    stats.add({ time: 0, kept: [s], read: [s] });
    assert.deepEqual(
      stats.rows('ownPct').map((r) => [r.name, r.file, r.ownPct]),
      [
        ['hold_inner', 'lines.c, liblines.so', 100],
        ['helper', 'liblines.so', 0],
        ['hold_outer', 'lines.c, liblines.so', 0],
        ['main', '/app/work.py', 0],
      ],
    );
  });
});
