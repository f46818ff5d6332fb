// The web page's profile model: record's own writers (collapsed, speedscope, pprof) read
// back by the importers with the same stacks and counts; py-spy/pyflame collapsed labels;
// malformed files of each format refused with a message; the differential tree
// normalised by totals; the sandwich view; the function table; the token comparison.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { StackProfile } from '../../src/sampler/profile.js';
import type { Frame, ThreadSample } from '../../src/sampler/types.js';
import { toCollapsed } from '../../src/formats/collapsed.js';
import { toSpeedscope } from '../../src/formats/speedscope.js';
import { toPprof } from '../../src/formats/pprof.js';
import { openProfile, ProfileFormatError } from '../../src/web/import/index.js';
import { diffFlameData, functionRows, sandwich, toFlameData, totalSamples, type StackTable } from '../../src/web/stack-table.js';
import { stackTableOf } from '../../src/web/profile-table.js';
import { tokenMatches } from '../../src/web/auth.js';
import type { FlameNode } from '../../src/formats/flamegraph-app.js';

const fr = (name: string, line: number): Frame => ({ name, filename: '/srv/app/work.py', line });
const th = (frames: Frame[], threadId = 1, name = 'MainThread'): ThreadSample => ({
  threadId,
  nativeTid: 100 + threadId,
  name,
  holdsGil: true,
  active: true,
  frames,
});

/** main → busy 6, main → light → busy 2, a worker → wait 3 */
function profile(threadRoots = false): StackProfile {
  const p = new StackProfile(
    { threadRoots, timeline: true, shorten: (f) => f.slice(f.lastIndexOf('/') + 1) },
    { title: 'python work.py', rate: 100, duration: 0.11 },
  );
  const add = (n: number, t: ThreadSample) => {
    for (let i = 0; i < n; i++) {
      p.tick(i / 100);
      p.add({ pid: 7, thread: t });
    }
  };
  add(6, th([fr('busy', 5), fr('main', 20)]));
  add(2, th([fr('busy', 5), fr('light', 12), fr('main', 21)]));
  add(3, th([fr('wait', 30), fr('worker', 33)], 2, 'worker-1'));
  return p;
}

/** "a;b;c" → count, labels as the page shows them */
function stacksOf(t: StackTable): Map<string, number> {
  const m = new Map<string, number>();
  for (const [fs, c] of t.stacks) {
    const key = fs.map((f) => (t.frames[f][1] ? `${t.frames[f][0]} (${t.frames[f][1]})` : t.frames[f][0])).join(';');
    m.set(key, (m.get(key) ?? 0) + c);
  }
  return m;
}

const EXPECTED = new Map([
  ['main (work.py:20);busy (work.py:5)', 6],
  ['main (work.py:21);light (work.py:12);busy (work.py:5)', 2],
  ['worker (work.py:33);wait (work.py:30)', 3],
]);

const find = (n: FlameNode, data: { frames: Array<[string, string, string]> }, path: string[]): FlameNode | undefined => {
  let node: FlameNode | undefined = n;
  for (const name of path) node = node?.[3].find((c) => data.frames[c[0]][0] === name);
  return node;
};

describe('web: profiles read back from every record format', () => {
  test('collapsed', () => {
    const t = openProfile(Buffer.from(toCollapsed(profile())), 'p.txt');
    assert.deepEqual(stacksOf(t), EXPECTED);
  });
  test('collapsed with thread roots: the roots are thread frames', () => {
    const t = openProfile(Buffer.from(toCollapsed(profile(true))), 'p.txt');
    assert.deepEqual(
      t.frames
        .filter((f) => f[2] === 'thread')
        .map((f) => f[0])
        .sort(),
      ['thread 101 "MainThread"', 'thread 102 "worker-1"'],
    );
  });
  test('speedscope (one profile per thread, equal weights: counts and rate)', () => {
    const t = openProfile(Buffer.from(JSON.stringify(toSpeedscope(profile()))), 'p.json');
    assert.equal(t.rate, 100);
    assert.equal(totalSamples(t), 11);
    const merged = toFlameData(t, { mergeRoots: true });
    assert.equal(find(merged.tree, merged, ['main', 'busy'])?.[1], 6 + 0);
    assert.equal(find(merged.tree, merged, ['worker', 'wait'])?.[1], 3);
  });
  test('pprof, gzipped and not', () => {
    const gz = toPprof(profile());
    for (const bytes of [gz, gunzipSync(gz)]) {
      const t = openProfile(bytes, 'p.pb.gz');
      assert.deepEqual(stacksOf(t), EXPECTED);
      assert.equal(t.rate, 100);
      assert.equal(t.title, 'python work.py');
    }
  });
  test('py-spy and pyflame collapsed labels', () => {
    const t = openProfile(Buffer.from('<module> (app.py:3);handle (app.py:10) 4\n/srv/app.py:<module>:3;/srv/app.py:handle:10 2\n'), 'x');
    const rows = functionRows(t);
    assert.deepEqual(
      rows.find((r) => r.name === 'handle' && r.location === 'app.py:10'),
      { name: 'handle', location: 'app.py:10', own: 6, total: 6 },
    );
  });
});

describe('web: malformed profiles are refused with a message', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['collapsed without counts', Buffer.from('a;b;c\n'), /line 1 is not "frame;frame;... COUNT"/],
    ['collapsed with a bad count', Buffer.from('a;b 3\na;c x\n'), /line 2/],
    ['speedscope that is not JSON', Buffer.from('{"shared": '), /not valid JSON/],
    ['speedscope without frames', Buffer.from('{"profiles": []}'), /no shared\.frames/],
    [
      'speedscope with a frame index out of range',
      Buffer.from(JSON.stringify({ shared: { frames: [{ name: 'a' }] }, profiles: [{ type: 'sampled', samples: [[3]], weights: [1] }] })),
      /frame index 3 out of range/,
    ],
    ['gzip that is not pprof', gzipSync(Buffer.from('hello world, not protobuf at all')), /not a pprof profile/],
    ['truncated gzip', toPprof(profile()).subarray(0, 40), /cannot be unpacked/],
    ['binary junk', Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x88, 0x99, 0x01]), /not a pprof profile/],
  ];
  for (const [what, bytes, message] of cases) {
    test(what, () => {
      assert.throws(
        () => openProfile(bytes, 'bad'),
        (e: unknown) => e instanceof ProfileFormatError && message.test((e as Error).message),
      );
    });
  }
});

describe('web: differential, sandwich and table', () => {
  const table = (lines: string) => openProfile(Buffer.from(lines), 'x');
  test('growth and shrink are measured against the before profile scaled to the same total', () => {
    // before: 100 samples, grow 10% and steady 90%; after: 200 samples, grow 40%, steady 60%
    const before = table('main;grow 10\nmain;steady 90\n');
    const after = table('main;grow 80\nmain;steady 120\n');
    const d = diffFlameData(before, after);
    assert.equal(d.diff, true);
    const grow = find(d.tree, d, ['main', 'grow'])!;
    const steady = find(d.tree, d, ['main', 'steady'])!;
    assert.deepEqual([grow[1], grow[4]], [80, 20]);
    assert.deepEqual([steady[1], steady[4]], [120, 180]);
    assert.equal(d.tree[4], 200);
  });
  test('a frame only in the after profile has a baseline of 0', () => {
    const d = diffFlameData(table('main;a 5\n'), table('main;a 5\nmain;b 5\n'));
    assert.equal(find(d.tree, d, ['main', 'b'])![4], 0);
  });
  test('sandwich: callers toward main, callees below, recursion counted once', () => {
    const t = table('main;handle;parse;parse;lex 3\nmain;load;parse 2\nmain;handle;render 5\n');
    const s = sandwich(t, 'parse', '');
    assert.equal(s.callers.frames[s.callers.tree[0]][0], 'parse');
    assert.equal(s.callers.tree[1], 5);
    assert.equal(find(s.callers.tree, s.callers, ['handle', 'main'])?.[1], 3);
    assert.equal(find(s.callers.tree, s.callers, ['load', 'main'])?.[1], 2);
    assert.equal(find(s.callees.tree, s.callees, ['parse', 'lex'])?.[1], 3);
    const parse = functionRows(t).find((r) => r.name === 'parse')!;
    assert.deepEqual([parse.own, parse.total], [2, 5]);
  });
  test('a live profile as a table keeps its thread roots, and the thread filter keeps one thread', () => {
    const t = stackTableOf(profile(true));
    const worker = t.frames.findIndex((f) => f[0] === 'thread 102 "worker-1"');
    const data = toFlameData(t, { through: worker });
    assert.equal(data.tree[1], 3);
    assert.equal(toFlameData(t, { mergeRoots: true }).tree[3].length, 3, 'merged: main (lines 20 and 21) and worker at the top');
  });
});

describe('web: token', () => {
  test('only the exact token matches', () => {
    assert.equal(tokenMatches('abc', 'abc'), true);
    for (const bad of [undefined, '', 'ab', 'abcd', 'abC']) assert.equal(tokenMatches(bad, 'abc'), false);
  });
});
