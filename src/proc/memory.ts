// Reading (and, for attach, writing) another process's memory through /proc/PID/mem.
// Positioned reads on that file need the same permission as ptrace but no FFI and no
// stop of the target; each read is one pread64 syscall.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { ProcessGoneError } from '../errors.js';
import { procError } from './process.js';

/** x86_64 user space ends at 2^47: every address we read lies below, exact as a Number. */
const USER_SPACE_END = 2 ** 47;

export class MemoryReadError extends Error {
  readonly addr: bigint;
  constructor(addr: bigint | number, len: number, why: string) {
    // a Number address read from a torn struct may be anything, even not an integer
    const big = typeof addr === 'bigint' ? addr : Number.isSafeInteger(addr) ? BigInt(addr) : -1n;
    super(`cannot read ${len} bytes at 0x${big.toString(16)}: ${why}`);
    this.name = 'MemoryReadError';
    this.addr = big;
  }
}

export class ProcessMemory {
  readonly pid: number;
  /** number of read syscalls made so far (benchmarks report reads per sample) */
  readCount = 0;
  private fd: number;

  private constructor(pid: number, fd: number) {
    this.pid = pid;
    this.fd = fd;
  }

  static open(pid: number, opts: { write?: boolean } = {}): ProcessMemory {
    try {
      return new ProcessMemory(pid, openSync(`/proc/${pid}/mem`, opts.write ? 'r+' : 'r'));
    } catch (e) {
      throw procError(pid, e, opts.write ? 'write the memory of' : 'read the memory of');
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /**
   * Reads exactly len bytes into buf at off; throws MemoryReadError if any is unmapped.
   * The address may be a Number (the sampler's hot path: no BigInt arithmetic per read).
   */
  readInto(addr: bigint | number, buf: Buffer, off = 0, len = buf.length - off): Buffer {
    const at = Number(addr);
    if (!(at > 0 && at < USER_SPACE_END)) throw new MemoryReadError(addr, len, 'not a user-space address');
    let done = 0;
    while (done < len) {
      let n: number;
      this.readCount++;
      try {
        n = readSync(this.fd, buf, off + done, len - done, at + done);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EIO' || code === 'EFAULT') throw new MemoryReadError(addr, len, 'unmapped');
        if (code === 'ESRCH' || code === 'ENOENT') throw procError(this.pid, e, 'read');
        throw e;
      }
      // /proc/PID/mem reads nothing (rather than failing) once the process's address
      // space is gone: it is exiting, though not a zombie yet, or has exited
      if (n === 0) throw new ProcessGoneError(this.pid, `process ${this.pid} exited while being read`);
      done += n;
    }
    return buf;
  }

  read(addr: bigint, len: number): Buffer {
    return this.readInto(addr, Buffer.allocUnsafe(len), 0, len);
  }

  u8(addr: bigint): number {
    return this.read(addr, 1)[0];
  }
  i32(addr: bigint): number {
    return this.read(addr, 4).readInt32LE(0);
  }
  u32(addr: bigint): number {
    return this.read(addr, 4).readUInt32LE(0);
  }
  u64(addr: bigint): bigint {
    return this.read(addr, 8).readBigUInt64LE(0);
  }
  i64(addr: bigint): bigint {
    return this.read(addr, 8).readBigInt64LE(0);
  }
  ptr(addr: bigint): bigint {
    return this.u64(addr);
  }

  /** Reads a NUL-terminated string of at most max bytes. */
  cstring(addr: bigint, max = 512): string {
    const buf = this.read(addr, max);
    const end = buf.indexOf(0);
    return buf.toString('utf8', 0, end < 0 ? max : end);
  }

  /** Writes bytes (also into read-only or executable pages: /proc/PID/mem ignores page protections). */
  write(addr: bigint, data: Buffer): void {
    let done = 0;
    while (done < data.length) {
      try {
        // user-space addresses are below 2^47, exact as a Number
        done += writeSync(this.fd, data, done, data.length - done, Number(addr) + done);
      } catch (e) {
        throw procError(this.pid, e, 'write the memory of');
      }
    }
  }
}
