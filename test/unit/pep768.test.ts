// PEP 768 byte layout, checked against a fixture: no 3.14 interpreter is installed here, so
// a fake _Py_DebugOffsets (the 3.14.0 values of docs/cpython-layouts.md §3) and fake
// interpreter/thread states stand in for the target's memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteDebugUnavailableError, sendRemoteExec } from '../../src/attach/pep768.js';
import { PLEASE_STOP_BIT, remoteDebugOffsets, type TargetMemory } from '../../src/reader/remote-debug.js';

/** _Py_DebugOffsets of 3.14.0: struct offset → value, for the fields the protocol reads */
const FIELDS_3_14: Record<number, number> = {
  40: 808, // runtime_state.interpreters_head
  72: 7344, // interpreter_state.threads_head
  80: 7360, // interpreter_state.threads_main
  192: 8, // thread_state.next
  224: 160, // thread_state.native_thread_id
  712: 24, // debugger_support.eval_breaker
  720: 304, // debugger_support.remote_debugger_support
  728: 8052, // debugger_support.remote_debugging_enabled
  736: 0, // debugger_support.debugger_pending_call
  744: 4, // debugger_support.debugger_script_path
  752: 512, // debugger_support.debugger_script_path_size
};

function debugOffsets(version = 0x030e00f0): Buffer {
  const b = Buffer.alloc(760);
  b.write('xdebugpy', 0, 'latin1');
  b.writeBigUInt64LE(BigInt(version), 8);
  for (const [off, v] of Object.entries(FIELDS_3_14)) b.writeBigUInt64LE(BigInt(v), Number(off));
  return b;
}

/** sparse memory: a few regions at fixed addresses, every access checked to fall inside one */
class FakeMemory implements TargetMemory {
  regions = new Map<bigint, Buffer>();
  writes: Array<{ addr: bigint; data: Buffer }> = [];
  map(addr: bigint, size: number): Buffer {
    const b = Buffer.alloc(size);
    this.regions.set(addr, b);
    return b;
  }
  private find(addr: bigint, len: number): [Buffer, number] {
    for (const [start, b] of this.regions) {
      if (addr >= start && addr + BigInt(len) <= start + BigInt(b.length)) return [b, Number(addr - start)];
    }
    throw new Error(`unmapped access at 0x${addr.toString(16)} (+${len})`);
  }
  read(addr: bigint, len: number): Buffer {
    const [b, off] = this.find(addr, len);
    return Buffer.from(b.subarray(off, off + len));
  }
  write(addr: bigint, data: Buffer): void {
    const [b, off] = this.find(addr, data.length);
    data.copy(b, off);
    this.writes.push({ addr, data: Buffer.from(data) });
  }
}

const RUNTIME = 0x7f00_0000_0000n;
const INTERP = 0x5555_0000_0000n;
const MAIN = 0x5555_1000_0000n;
const WORKER = 0x5555_2000_0000n;

function fixture(opts: { enabled?: number; breaker?: bigint } = {}) {
  const mem = new FakeMemory();
  const rt = mem.map(RUNTIME, 4096);
  debugOffsets().copy(rt, 0);
  rt.writeBigUInt64LE(INTERP, 808);
  const interp = mem.map(INTERP, 9000);
  interp.writeBigUInt64LE(WORKER, 7344); // threads.head: newest first
  interp.writeBigUInt64LE(MAIN, 7360); // threads.main
  interp.writeInt32LE(opts.enabled ?? 1, 8052);
  for (const [addr, tid, next] of [
    [MAIN, 4242n, 0n],
    [WORKER, 4250n, MAIN],
  ] as const) {
    const ts = mem.map(addr, 1024);
    ts.writeBigUInt64LE(next, 8);
    ts.writeBigUInt64LE(tid, 160);
    ts.writeBigUInt64LE(opts.breaker ?? 0b101n, 24); // some bits already set by the target
  }
  return mem;
}

test('the 3.14 debugger_support offsets come out of _Py_DebugOffsets', () => {
  const o = remoteDebugOffsets(debugOffsets());
  assert.deepEqual(o, {
    interpretersHead: 808,
    threadsHead: 7344,
    threadsMain: 7360,
    tstateNext: 8,
    nativeThreadId: 160,
    evalBreaker: 24,
    remoteDebuggerSupport: 304,
    remoteDebuggingEnabled: 8052,
    debuggerPendingCall: 0,
    debuggerScriptPath: 4,
    debuggerScriptPathSize: 512,
  });
});

test('3.13 has no remote debugger support in its _Py_DebugOffsets', () => {
  const b = Buffer.alloc(760);
  b.write('xdebugpy', 0, 'latin1');
  b.writeBigUInt64LE(0x030d00f0n, 8);
  assert.equal(remoteDebugOffsets(b), undefined);
});

test('three writes in protocol order: path with its NUL, pending flag, eval-breaker bit ORed in', () => {
  const mem = fixture();
  const o = remoteDebugOffsets(mem.read(RUNTIME, 760))!;
  const tstate = sendRemoteExec(mem, RUNTIME, o, '/tmp/spyglass-0/boot.py');
  assert.equal(tstate, MAIN);
  assert.deepEqual(
    mem.writes.map((w) => w.addr),
    [MAIN + 304n + 4n, MAIN + 304n, MAIN + 24n],
  );
  assert.equal(mem.writes[0].data.toString('utf8'), '/tmp/spyglass-0/boot.py\0');
  assert.equal(mem.read(MAIN + 304n, 4).readInt32LE(0), 1);
  // the bits the target had set stay set
  assert.equal(mem.read(MAIN + 24n, 8).readBigUInt64LE(0), 0b101n | PLEASE_STOP_BIT);
  assert.equal(PLEASE_STOP_BIT, 32n);
  // the other thread is untouched
  assert.equal(mem.read(WORKER + 24n, 8).readBigUInt64LE(0), 0b101n);
});

test('a thread chosen by kernel tid is found by walking the thread list', () => {
  const mem = fixture();
  const o = remoteDebugOffsets(mem.read(RUNTIME, 760))!;
  assert.equal(sendRemoteExec(mem, RUNTIME, o, '/x.py', 4250), WORKER);
  assert.equal(mem.read(WORKER + 304n + 4n, 6).toString('utf8'), '/x.py\0');
  assert.throws(() => sendRemoteExec(mem, RUNTIME, o, '/x.py', 9999), /thread 9999 has no Python thread state/);
});

test('remote debugging disabled in the target: nothing is written', () => {
  const mem = fixture({ enabled: 0 });
  const o = remoteDebugOffsets(mem.read(RUNTIME, 760))!;
  assert.throws(() => sendRemoteExec(mem, RUNTIME, o, '/x.py'), RemoteDebugUnavailableError);
  assert.equal(mem.writes.length, 0);
});

test('a path longer than the 512-byte buffer is refused before any write', () => {
  const mem = fixture();
  const o = remoteDebugOffsets(mem.read(RUNTIME, 760))!;
  assert.throws(() => sendRemoteExec(mem, RUNTIME, o, '/' + 'a'.repeat(511)), /512 bytes, the target accepts 511/);
  sendRemoteExec(mem, RUNTIME, o, '/' + 'a'.repeat(510));
  assert.equal(mem.writes.length, 3);
});
