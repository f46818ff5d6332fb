// Files the cached line tables read from, with a bounded number of them open at once:
// a line table outlives the process it was made for (cached per build-id), and a
// long-running spyglass (the shell, the web server) meets library after library. The
// least recently read file is closed when another must be opened, and opened again when
// read again; it must then still be the same file (device, inode, size and modification
// time), else the read fails rather than read another file's bytes
// (docs/native-unwinding.md §3).
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

/** files open at once, at most */
export const MAX_OPEN_FILES = 16;

/** The open files, least recently read first (a Map keeps insertion order). */
const open = new Map<PooledFile, number>();

export class PooledFile {
  readonly path: string;
  private readonly id: string;

  /** Opens path now (so that a missing file fails here), as the path most likely to outlast the target. */
  constructor(path: string) {
    this.path = lastingPath(path);
    const fd = openSync(this.path, 'r');
    this.id = identity(fstatSync(fd));
    hold(this, fd);
  }

  /** Reads len bytes at pos (fewer at the file's end). */
  read(pos: number, len: number): Buffer {
    const fd = this.fd();
    const buf = Buffer.allocUnsafe(len);
    let done = 0;
    while (done < len) {
      const n = readSync(fd, buf, done, len - done, pos + done);
      if (n <= 0) break;
      done += n;
    }
    return done === len ? buf : buf.subarray(0, done);
  }

  /** Closes the file now; a later read opens it again. */
  close(): void {
    const fd = open.get(this);
    if (fd === undefined) return;
    open.delete(this);
    closeSync(fd);
  }

  private fd(): number {
    let fd = open.get(this);
    if (fd !== undefined) {
      // the most recently read goes last
      open.delete(this);
      open.set(this, fd);
      return fd;
    }
    fd = openSync(this.path, 'r');
    if (identity(fstatSync(fd)) !== this.id) {
      closeSync(fd);
      throw new Error(`${this.path} changed on disk since it was first read`);
    }
    hold(this, fd);
    return fd;
  }
}

/** How many files the pool holds open now. */
export function openFileCount(): number {
  return open.size;
}

function hold(file: PooledFile, fd: number): void {
  for (const [oldest, oldFd] of open) {
    if (open.size < MAX_OPEN_FILES) break;
    open.delete(oldest);
    closeSync(oldFd);
  }
  open.set(file, fd);
}

function identity(s: Stats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
}

/**
 * /proc/PID/root/X is gone once the target exits; when X on this machine is the very same
 * file (no container), X is kept instead, so the table can still be read for the next
 * process that maps it.
 */
function lastingPath(path: string): string {
  const m = /^\/proc\/\d+\/root(\/.*)$/.exec(path);
  if (!m) return path;
  try {
    const a = statSync(path);
    const b = statSync(m[1]);
    return a.dev === b.dev && a.ino === b.ino ? m[1] : path;
  } catch {
    return path;
  }
}
