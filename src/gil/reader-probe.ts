// GilProbe on top of the out-of-process reader (src/reader/): threads, names and stacks
// from its walk; the GIL's address from its per-version layout.
import { NotPythonError } from '../errors.js';
import { ProcessMemory } from '../proc/memory.js';
import type { Layout } from '../reader/layouts/index.js';
import { openReader } from '../reader/reader.js';
import { GIL_STRUCT_SIZE, decodeGil, looksLikeGil, rawLocked } from './gil-struct.js';
import type { GilProbe, GilThread } from './probe.js';

// Up to 3.11 the GIL is _PyRuntime.ceval.gil, the last member of ceval, and gilstate
// follows it: {int check_enabled; PyThreadState *tstate_current; ...}. So the GIL struct
// ends 8 bytes before tstate_current (3.8: gil @1152, tstate_current @1368; 3.9/3.10:
// 352/568; 3.11: 360/576, docs/cpython-layouts.md §4). Checked against the struct's content.
const GIL_BEFORE_TSTATE_CURRENT = GIL_STRUCT_SIZE + 8;

function gilAddress(mem: ProcessMemory, l: Layout, pyRuntime: bigint): bigint {
  const interp = mem.ptr(pyRuntime + BigInt(l.runtime.interpretersHead));
  if (l.interp.cevalGil !== undefined) return mem.ptr(interp + BigInt(l.interp.cevalGil));
  if (l.runtime.tstateCurrent !== undefined) return pyRuntime + BigInt(l.runtime.tstateCurrent - GIL_BEFORE_TSTATE_CURRENT);
  throw new NotPythonError(`gilstat: no GIL location known for this Python (layout ${l.source})`);
}

export async function openGilProbe(pid: number): Promise<GilProbe> {
  const reader = await openReader(pid);
  let mem: ProcessMemory | undefined;
  try {
    mem = ProcessMemory.open(pid);
    const m = mem;
    const gilAddr = gilAddress(m, reader.layout, reader.target.pyRuntime);
    const probe = m.read(gilAddr, GIL_STRUCT_SIZE);
    if (!looksLikeGil(decodeGil(probe), rawLocked(probe))) {
      throw new NotPythonError(`gilstat: the GIL of process ${pid} (Python ${reader.target.version.text}) is not where this version keeps it`);
    }
    const identOffset = BigInt(reader.layout.tstate.threadId);
    // thread state address -> ident; thread states are reused after a thread exits, so
    // the cache is dropped whenever the set of threads changes
    const idents = new Map<bigint, bigint>();
    let lastSet = '';
    return {
      pid,
      version: reader.target.version.text,
      gilAddr,
      readGil: (buf) => void m.readInto(gilAddr, buf, 0, GIL_STRUCT_SIZE),
      threads(): GilThread[] {
        const dump = reader.sample({ activity: false, maxDepth: 1 });
        const main = dump.interpreters[0];
        const out = dump.threads
          .filter((t) => t.interpreterId === main)
          .map((t) => ({ ident: BigInt(t.threadId), tid: t.tid, name: t.name ?? (t.tid === pid ? 'MainThread' : `thread-${t.tid ?? t.threadId}`) }));
        const set = out.map((t) => t.ident).join(',');
        if (set !== lastSet) idents.clear();
        lastSet = set;
        return out;
      },
      identOf(tstate: bigint): bigint | undefined {
        let id = idents.get(tstate);
        if (id === undefined) {
          try {
            id = m.u64(tstate + identOffset);
          } catch {
            return undefined;
          }
          idents.set(tstate, id);
        }
        return id;
      },
      stack(ident: bigint) {
        const t = reader.sample({ activity: false, threadNames: false }).threads.find((x) => BigInt(x.threadId) === ident);
        return (t?.frames ?? []).filter((f) => !f.error);
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
