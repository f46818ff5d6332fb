// The kernel's scheduler state of a process's threads ('R' running or runnable, 'S'
// sleeping, ...), read at every sampling instant. Each thread's /proc stat file is kept
// open and re-read with one pread: a third of the cost of open + read + close, and the
// biggest share of a sample's cost after the stack reads themselves.
import { closeSync, openSync, readSync } from 'node:fs';

/** ')' ends the command name in "tid (comm) S ..." */
const CLOSE_PAREN = 0x29;

export class ThreadStates {
  readonly pid: number;
  /** per TID: its open stat file, and the last sample that asked for it */
  private readonly files = new Map<number, { fd: number; asked: number }>();
  private readonly buf = Buffer.alloc(1024);
  /** samples begun: files not asked for in the last one are closed at its end */
  private samples = 0;

  constructor(pid: number) {
    this.pid = pid;
  }

  /** tid → state letter for the threads asked for; a thread that has gone is left out. */
  read(tids: Iterable<number>): Map<number, string> {
    this.begin();
    const states = new Map<number, string>();
    for (const tid of tids) {
      const state = this.stateOf(tid);
      if (state !== undefined) states.set(tid, state);
    }
    this.end();
    return states;
  }

  /** Starts a sample: stateOf() for each thread, then end(). */
  begin(): void {
    this.samples++;
  }

  /** The state letter of one thread, or undefined when it has gone. */
  readonly stateOf = (tid: number): string | undefined => {
    let file = this.files.get(tid);
    try {
      if (file === undefined) this.files.set(tid, (file = { fd: openSync(`/proc/${this.pid}/task/${tid}/stat`, 'r'), asked: 0 }));
      file.asked = this.samples;
      const n = readSync(file.fd, this.buf, 0, this.buf.length, 0);
      // "tid (comm) S ...": the command name may hold spaces and parentheses
      // (a negative offset would search from the end of the buffer, past what was read)
      const paren = n > 0 ? this.buf.lastIndexOf(CLOSE_PAREN, n - 1) : -1;
      return paren >= 0 && paren + 2 < n ? String.fromCharCode(this.buf[paren + 2]) : undefined;
    } catch {
      // the thread exited (ENOENT on open, ESRCH on read)
      return undefined;
    }
  };

  /** Ends a sample: threads not asked for any more have exited (or are not Python's): their files go. */
  end(): void {
    // forEach rather than for-of: no entry array per thread and sample (deleting the entry
    // being visited is allowed)
    this.files.forEach((file, tid) => {
      if (file.asked !== this.samples) {
        closeSync(file.fd);
        this.files.delete(tid);
      }
    });
  }

  close(): void {
    for (const file of this.files.values()) closeSync(file.fd);
    this.files.clear();
  }
}
