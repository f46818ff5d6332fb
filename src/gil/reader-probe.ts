// GilProbe on top of the out-of-process reader (src/reader/): threads, names and stacks
// from its walk; the GIL's address and shape from the reader (reader/gil.ts).
import { NotPythonError } from '../errors.js';
import { ProcessMemory } from '../proc/memory.js';
import { GIL_STRUCT_SIZE, decodeGil, gilAddress, looksLikeGil, rawLocked } from '../reader/gil.js';
import { openReader } from '../reader/reader.js';
import type { GilProbe, GilThread } from './probe.js';

export async function openGilProbe(pid: number): Promise<GilProbe> {
  const reader = await openReader(pid);
  let mem: ProcessMemory | undefined;
  try {
    mem = ProcessMemory.open(pid);
    const m = mem;
    const gilAddr = gilAddress(m, reader.layout, reader.target.pyRuntime);
    const probe = m.read(gilAddr, GIL_STRUCT_SIZE);
    if (!looksLikeGil(decodeGil(probe), rawLocked(probe))) {
      throw new NotPythonError(
        `gilstat: the GIL of process ${pid} (Python ${reader.target.version.text}) is not where this version keeps it`,
      );
    }
    // thread state address -> ident; thread states are reused after a thread exits, so
    // the cache is dropped whenever the set of threads changes
    const idents = new Map<bigint, bigint>();
    let lastSet = '';
    return {
      pid,
      version: reader.target.version.text,
      gilAddr,
      readGil: (buf) => void m.readInto(gilAddr, buf, 0, GIL_STRUCT_SIZE),
      threads(recheckUnnamed = false): GilThread[] {
        const dump = reader.sample({ activity: false, maxDepth: 1, recheckUnnamed });
        const main = dump.interpreters[0];
        const out = dump.threads
          .filter((t) => t.interpreterId === main)
          .map((t) => ({
            ident: BigInt(t.threadId),
            tid: t.tid,
            name: t.name ?? (t.tid === pid ? 'MainThread' : `thread-${t.tid ?? t.threadId}`),
            named: t.name !== undefined,
          }));
        const set = out.map((t) => t.ident).join(',');
        if (set !== lastSet) idents.clear();
        lastSet = set;
        return out;
      },
      identOf(tstate: bigint): bigint | undefined {
        let id = idents.get(tstate);
        if (id === undefined) {
          try {
            id = reader.threadIdentAt(tstate);
          } catch {
            return undefined;
          }
          idents.set(tstate, id);
        }
        return id;
      },
      stack(ident: bigint) {
        const t = reader.sample({ activity: false, threadNames: false }).threads.find((x) => BigInt(x.threadId) === ident);
        return t && t.torn === undefined ? t.frames : [];
      },
      close() {
        m.close();
        reader.close();
      },
    };
  } catch (e) {
    mem?.close();
    reader.close();
    throw e;
  }
}
