// The floor of a 100 Hz recording in Node: a program that does only what any sampler
// written in JavaScript must do, and nothing of what spyglass adds (no consistency checks,
// no retries, no code objects read, no names, lines or output format). At Poisson
// instants for `seconds`: block until the instant (Atomics.wait, as spyglass does), read
// the interpreter's thread list, each thread's kernel state from its stat file (kept
// open), and, for a running thread, its frame chain (3.11+ _PyInterpreterFrame), counting
// each distinct chain of (code address, instruction) pairs. Compared with `spyglass
// record` and `py-spy record --nonblocking` by bench/startup.ts: what is above this line
// is spyglass's own; what is below it no JavaScript sampler can save.
//
// It imports node:fs only (what it costs to start is Node's own), and is given every
// address and offset by the caller (startup.ts reads them from spyglass's layouts):
//   node dist/bench/record-floor.js '{"pid":..,"seconds":5,"rate":100,...}'
import { openSync, readSync } from 'node:fs';

export interface FloorArgs {
  pid: number;
  seconds: number;
  rate: number;
  /** address of _PyRuntime.interpreters.head */
  interpretersHead: number;
  /** offsets in the interpreter, thread state, _PyCFrame and _PyInterpreterFrame */
  threadsHead: number;
  tstateSize: number;
  tstateNext: number;
  nativeThreadId: number;
  /** 3.11-3.12: the thread state's cframe and its current_frame; 3.13+: current_frame */
  cframe?: number;
  cframeCurrent?: number;
  currentFrame?: number;
  previous: number;
  code: number;
  instr: number;
  owner: number;
  /** owner values at or above this are C-stack shims (3.12+) */
  skipOwnerFrom?: number;
  codeAdaptive: number;
}

const TWO_32 = 2 ** 32;
const u64 = (b: Buffer, o: number) =>
  (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) +
  b[o + 3] * 0x1000000 +
  ((b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16)) + b[o + 7] * 0x1000000) * TWO_32;

function run(a: FloorArgs): void {
  const mem = openSync(`/proc/${a.pid}/mem`, 'r');
  const word = Buffer.alloc(8);
  const ts = Buffer.alloc(a.tstateSize);
  const chunk = Buffer.alloc(16384);
  const stat = Buffer.alloc(512);
  const statFds = new Map<number, number>();
  const ptr = (addr: number) => (readSync(mem, word, 0, 8, addr) === 8 ? u64(word, 0) : 0);
  const running = (tid: number) => {
    let fd = statFds.get(tid);
    if (fd === undefined) {
      fd = openSync(`/proc/${a.pid}/task/${tid}/stat`, 'r');
      statFds.set(tid, fd);
    }
    const n = readSync(fd, stat, 0, stat.length, 0);
    return stat[stat.lastIndexOf(41, n) + 2] === 82; // the state after "(comm) " is R
  };
  const ids = new Map<number, Map<number, number>>();
  const counts = new Map<string, number>();
  const sample = () => {
    let t = ptr(ptr(a.interpretersHead) + a.threadsHead);
    let key = '';
    for (let threads = 0; t && threads < 256; threads++) {
      readSync(mem, ts, 0, a.tstateSize, t);
      t = u64(ts, a.tstateNext);
      if (!running(u64(ts, a.nativeThreadId))) continue;
      let frame = a.currentFrame !== undefined ? u64(ts, a.currentFrame) : ptr(u64(ts, a.cframe!) + a.cframeCurrent!);
      let base = 0;
      let n = 0;
      for (let depth = 0; frame && depth < 1024; depth++) {
        let off = frame - base;
        if (off < 0 || off + 80 > n) {
          base = frame;
          n = readSync(mem, chunk, 0, chunk.length, frame);
          off = 0;
        }
        const previous = u64(chunk, off + a.previous);
        if (a.skipOwnerFrom === undefined || chunk[off + a.owner] < a.skipOwnerFrom) {
          const code = u64(chunk, off + a.code);
          const at = u64(chunk, off + a.instr) - code - a.codeAdaptive;
          let byAt = ids.get(code);
          if (byAt === undefined) ids.set(code, (byAt = new Map()));
          let id = byAt.get(at);
          if (id === undefined) byAt.set(at, (id = ids.size * 1000 + byAt.size));
          key += `${id};`;
        }
        frame = previous;
      }
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const end = performance.now() + 1000 * a.seconds;
  let deadline = performance.now();
  for (;;) {
    deadline += (-Math.log(1 - Math.random()) * 1000) / a.rate;
    if (deadline > end) break;
    const left = deadline - performance.now();
    if (left > 0) Atomics.wait(cell, 0, 0, left);
    sample();
  }
  let total = 0;
  for (const c of counts.values()) total += c;
  console.log(`${total} samples, ${counts.size} distinct stacks`);
}

if (process.argv[2]) run(JSON.parse(process.argv[2]) as FloorArgs);
