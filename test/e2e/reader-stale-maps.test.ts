// The reader widens some reads downwards (older frames lie just below on a data stack)
// and clips them to the mapping it last saw in /proc/PID/maps. When part of that mapping
// is freed (the kernel shows neighbouring anonymous mappings as one line), the widened
// read fails: the reader must look at the maps again and read only what was asked,
// instead of tearing every later sample of a process that starts and ends threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressSpace, readMaps } from '../../src/proc/maps.js';
import { ProcessMemory } from '../../src/proc/memory.js';
import { SnapshotMemory } from '../../src/reader/snapshot.js';
import { discoverPythons } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';

const PAGE = 4096;
const python = discoverPythons().at(-1);

test('a widened read over a freed neighbouring mapping is read again, unwidened', { skip: !python }, async (t) => {
  const target = await startTarget(python!, 'stale_maps.py');
  t.after(() => target.stop());
  const base = Number((await target.waitFor(/^READY /)).split(' ')[1]);
  const mem = ProcessMemory.open(target.pid);
  t.after(() => mem.close());
  const snap = new SnapshotMemory(mem, new AddressSpace(readMaps(target.pid)));
  snap.begin();
  process.kill(target.pid, 'SIGUSR1');
  await target.waitFor(/^UNMAPPED$/);
  // 5 pages below the mark: 4 of them were freed after the maps were read
  const bytes = snap.read(BigInt(base + 6 * PAGE), 8, 5 * PAGE);
  assert.equal(bytes.toString('latin1'), 'SPYGLASS');
});
