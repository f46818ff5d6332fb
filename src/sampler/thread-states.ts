// The kernel's scheduler state of a process's threads ('R' running or runnable, 'S'
// sleeping, ...), read at every sampling instant. Each thread's /proc stat file is kept
// open and re-read with one pread: a third of the cost of open + read + close, and the
// biggest share of a sample's cost after the stack reads themselves.
import { closeSync, openSync, readSync } from 'node:fs';

export class ThreadStates {
  readonly pid: number;
  private readonly fds = new Map<number, number>();
  private readonly buf = Buffer.alloc(1024);

  constructor(pid: number) {
    this.pid = pid;
  }

  /** tid → state letter for the threads asked for; a thread that has gone is left out. */
  read(tids: Iterable<number>): Map<number, string> {
    const states = new Map<number, string>();
    for (const tid of tids) {
      const state = this.stateOf(tid);
      if (state !== undefined) states.set(tid, state);
    }
    // threads not asked for any more have exited (or are not Python's): let their files go
    for (const [tid, fd] of this.fds) {
      if (!states.has(tid)) {
        closeSync(fd);
        this.fds.delete(tid);
      }
    }
    return states;
  }

  private stateOf(tid: number): string | undefined {
    let fd = this.fds.get(tid);
    try {
      if (fd === undefined) this.fds.set(tid, (fd = openSync(`/proc/${this.pid}/task/${tid}/stat`, 'r')));
      const n = readSync(fd, this.buf, 0, this.buf.length, 0);
      // "tid (comm) S ...": the command name may hold spaces and parentheses
      const text = this.buf.toString('latin1', 0, n);
      return text[text.lastIndexOf(')') + 2];
    } catch {
      // the thread exited (ENOENT on open, ESRCH on read)
      return undefined;
    }
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
