// stack's text view draws its JSON document through stackDumpFromJson: the text must be
// exactly the text of the dump itself (what `spyglass dump` prints), for every kind of
// thread the renderer knows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderStackText, stackDumpFromJson, stackDumpJson } from '../../src/commands/render-stack.js';

test('the text of a dump and of its JSON document read back are the same', () => {
  const f = (name: string, line: number) => ({ name, filename: '/srv/app.py', line });
  const native = (name: string, address: bigint, guessed?: boolean) => ({
    kind: 'native' as const,
    name,
    module: 'libc.so.6',
    address,
    guessed,
  });
  const dump = {
    pid: 4242,
    python: { version: '3.12.1', build: 'shared' as const, executable: '/usr/bin/python3.12', library: 'libpython3.12.so.1.0' },
    interpreters: [0, 1],
    threads: [
      {
        interpreterId: 0,
        threadId: 140000,
        tid: 4243,
        name: 'worker',
        holdsGil: true,
        activity: 'active' as const,
        frames: [
          {
            ...f('price', 31),
            locals: [
              { name: 'order', value: "{'id': 17}", argument: true },
              { name: 'total', value: '12.5', argument: false },
            ],
          },
          f('main', 3),
        ],
        truncated: true,
      },
      { interpreterId: 1, threadId: 150000, holdsGil: false, activity: 'idle' as const, frames: [f('loop', 9)], torn: 'kept changing' },
      { interpreterId: 0, threadId: 160000, tid: 4245, holdsGil: false, activity: 'idle' as const, frames: [] },
      {
        interpreterId: 0,
        threadId: 170000,
        tid: 4246,
        name: 'sorter',
        holdsGil: false,
        activity: 'active' as const,
        frames: [f('compare', 17)],
        native: {
          merged: true,
          frames: [native('qsort_r', 0x7f00n), f('compare', 17), native('ffi_call', 0x7f10n, true)],
          stopped: 'no unwind info',
        },
      },
      {
        interpreterId: 0,
        threadId: 180000,
        holdsGil: false,
        activity: 'unknown' as const,
        frames: [f('park', 13)],
        native: { merged: false, frames: [native('clock_nanosleep', 0x7f20n)], reason: 'no entry frame' },
      },
    ],
    notes: ['a note'],
  };
  const text = renderStackText(dump);
  assert.match(text, /qsort_r/);
  assert.equal(renderStackText(stackDumpFromJson(stackDumpJson(dump))), text);
});
