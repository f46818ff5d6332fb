// GilProbe on top of the out-of-process reader: the GIL's address from the reader's
// per-version layouts, the thread list from the interpreter's thread states.
import { NotPythonError } from '../errors.js';
import { ProcessMemory } from '../proc/memory.js';
import { listThreads } from '../proc/process.js';
import { DEBUG_OFFSETS_MAX_SIZE } from '../reader/layouts/debug-offsets.js';
import { layoutFor, type Layout } from '../reader/layouts/index.js';
import { locatePython } from '../reader/locate.js';
import { GIL_STRUCT_SIZE, decodeGil, looksLikeGil, rawLocked } from './gil-struct.js';
import type { GilProbe, GilThread, StackFrame } from './probe.js';

// Up to 3.11 the GIL is _PyRuntime.ceval.gil, the last member of ceval, and gilstate
// follows it: {int check_enabled; PyThreadState *tstate_current; ...}. So the GIL struct
// ends 8 bytes before tstate_current (3.8: gil @1152, tstate_current @1368; 3.9/3.10:
// 352/568; 3.11: 360/576, cpython-internals.md §5). Checked against the struct's content.
const GIL_BEFORE_TSTATE_CURRENT = GIL_STRUCT_SIZE + 8;
// glibc x86_64: struct pthread.tid, for mapping thread_id (pthread_self) to a kernel TID
// on 3.8-3.10, which keep no native id (cpython-internals.md §10.1)
const PTHREAD_TID = 0x2d0n;

function gilAddress(mem: ProcessMemory, l: Layout, pyRuntime: bigint, interp: bigint): bigint {
  if (l.interp.cevalGil !== undefined) return mem.ptr(interp + BigInt(l.interp.cevalGil));
  if (l.runtime.tstateCurrent !== undefined) return pyRuntime + BigInt(l.runtime.tstateCurrent - GIL_BEFORE_TSTATE_CURRENT);
  throw new NotPythonError(`gilstat: no GIL location known for this Python (layout ${l.source})`);
}

export function openGilProbe(pid: number): GilProbe {
  const target = locatePython(pid);
  const mem = ProcessMemory.open(pid);
  try {
    const l = layoutFor(target.version, target.version.minor >= 13 ? mem.read(target.pyRuntime, DEBUG_OFFSETS_MAX_SIZE) : undefined);
    const interp = mem.ptr(target.pyRuntime + BigInt(l.runtime.interpretersHead));
    const gilAddr = gilAddress(mem, l, target.pyRuntime, interp);
    const probe = mem.read(gilAddr, GIL_STRUCT_SIZE);
    if (!looksLikeGil(decodeGil(probe), rawLocked(probe))) {
      throw new NotPythonError(`gilstat: the GIL of process ${pid} (Python ${target.version.text}) is not where this version keeps it`, 'run with --debug and report it');
    }
    const tids = () => new Set(listThreads(pid));
    return {
      pid,
      version: target.version.text,
      gilAddr,
      readGil: (buf) => void mem.readInto(gilAddr, buf, 0, GIL_STRUCT_SIZE),
      threads(): GilThread[] {
        const live = tids();
        const out: GilThread[] = [];
        let ts = mem.ptr(interp + BigInt(l.interp.threadsHead));
        for (let i = 0; ts !== 0n && i < 4096; i++) {
          let tid: number | undefined;
          if (l.tstate.nativeThreadId !== undefined) tid = Number(mem.u64(ts + BigInt(l.tstate.nativeThreadId)));
          else {
            const pthread = mem.ptr(ts + BigInt(l.tstate.threadId));
            tid = pthread ? mem.i32(pthread + PTHREAD_TID) : undefined;
          }
          if (tid !== undefined && !live.has(tid)) tid = undefined;
          out.push({ tstate: ts, tid, name: tid === pid ? 'MainThread' : `Thread-${tid ?? '?'}` });
          ts = mem.ptr(ts + BigInt(l.tstate.next));
        }
        return out;
      },
      stack(): StackFrame[] {
        return [];
      },
      close() {
        mem.close();
        target.close();
      },
    };
  } catch (e) {
    mem.close();
    target.close();
    throw e;
  }
}
