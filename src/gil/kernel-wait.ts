// What the kernel says a thread is blocked in, from /proc/PID/task/TID/syscall: "running",
// or the syscall number and its arguments. A thread sleeping in futex() on the GIL's
// condition variable is waiting to take the GIL; that is how gilstat sees waits without
// hooking take_gil. One fd per thread is kept open and re-read at offset 0 (the kernel
// regenerates the text on every read): ~2.5 us a read.
import { closeSync, openSync, readSync } from 'node:fs';

const SYS_FUTEX = 202; // x86_64

export interface BlockedIn {
  /** the thread is on a CPU or runnable */
  running: boolean;
  /** futex word the thread sleeps on, when it is in futex() */
  futex?: bigint;
}

export function parseSyscallLine(text: string): BlockedIn {
  if (text.startsWith('running')) return { running: true };
  const f = text.trim().split(' ');
  if (Number(f[0]) === SYS_FUTEX && f[1]) return { running: false, futex: BigInt(f[1]) };
  return { running: false };
}

export class KernelWaits {
  private readonly fds = new Map<number, number>();
  private readonly buf = Buffer.alloc(256);

  constructor(private readonly pid: number) {}

  /** undefined when the thread has gone (or may not be read) */
  read(tid: number): BlockedIn | undefined {
    let fd = this.fds.get(tid);
    try {
      if (fd === undefined) {
        fd = openSync(`/proc/${this.pid}/task/${tid}/syscall`, 'r');
        this.fds.set(tid, fd);
      }
      const n = readSync(fd, this.buf, 0, this.buf.length, 0);
      return parseSyscallLine(this.buf.toString('latin1', 0, n));
    } catch {
      this.forget(tid);
      return undefined;
    }
  }

  /** Closes the fds of threads not in `live`. */
  keepOnly(live: Iterable<number>): void {
    const keep = new Set(live);
    for (const tid of [...this.fds.keys()]) if (!keep.has(tid)) this.forget(tid);
  }

  close(): void {
    for (const tid of [...this.fds.keys()]) this.forget(tid);
  }

  private forget(tid: number): void {
    const fd = this.fds.get(tid);
    this.fds.delete(tid);
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
  }
}
