// The client side of agent/spyglass_agent/commands/torch/file_transfer.py: a file the target wrote (a
// torch trace or snapshot) arrives as base64 `file_chunk` events and is written where the
// user runs spyglass. It goes to DEST.part first and is renamed once its size and SHA-256
// match what the agent sent, so a stopped or broken transfer never leaves a file that
// looks complete. When DEST's directory goes away or its disk fills up meanwhile, the
// transfer moves to a fallback place (save-file.ts) rather than losing the file.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { saveWith, type SavedFile } from '../save-file.js';

/** -f PATH as the user meant it: ~ expanded, relative to the directory spyglass runs in. */
export function outputPath(cwd: string, given: string, defaultName?: string): string {
  const path = given === '~' ? homedir() : given.startsWith('~/') ? join(homedir(), given.slice(2)) : given;
  let full = isAbsolute(path) ? path : resolve(cwd, path);
  // a directory given: the default name in it, as the reference's complete_full_path does
  if (defaultName !== undefined && existsSync(full) && statSync(full).isDirectory()) full = join(full, defaultName);
  const dir = dirname(full);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UserError(`cannot write ${full}: the directory ${dir} does not exist`, 'create it, or give another path with -f');
  return full;
}

/** One `file_chunk` event: the file's bytes in order, base64. */
export interface FileChunk {
  seq: number;
  data: string;
}

export class FileReceiver {
  /** where the file goes: the path asked for, or a fallback place once that failed */
  path: string;
  /** set when the file could not be written where asked (the directory went away, the disk filled up) */
  notWritten?: SavedFile['notWritten'];
  private fd: number;
  private readonly hash = createHash('sha256');
  private nextSeq = 0;
  private bytes = 0;

  constructor(readonly wanted: string) {
    this.path = wanted;
    try {
      // read back too: moving aside copies what was received from this very file
      this.fd = openSync(this.partPath, 'w+');
    } catch (e) {
      this.fd = -1;
      this.moveAside(e);
    }
  }

  private get partPath(): string {
    return `${this.path}.part`;
  }

  chunk({ seq, data: b64 }: FileChunk): void {
    if (seq !== this.nextSeq) throw new Error(`file transfer: chunk ${seq} arrived, ${this.nextSeq} expected`);
    const buf = Buffer.from(b64, 'base64');
    try {
      writeSync(this.fd, buf);
    } catch (e) {
      this.moveAside(e);
      writeSync(this.fd, buf);
    }
    this.hash.update(buf);
    this.bytes += buf.length;
    this.nextSeq++;
  }

  /** Checks the whole file against the agent's figures and puts it in place. */
  finish(expected: { bytes?: number; sha256?: string; complete?: boolean }): number {
    const sha = this.hash.digest('hex');
    if (expected.complete === false || expected.bytes !== this.bytes || expected.sha256 !== sha) {
      this.discard();
      throw new UserError(
        `the transfer of ${this.path} was incomplete (${this.bytes} of ${expected.bytes ?? '?'} bytes); nothing was written`,
      );
    }
    // renamed while still open: if the directory went away meanwhile, the bytes are still here to copy
    try {
      renameSync(this.partPath, this.path);
    } catch (e) {
      this.moveAside(e);
      renameSync(this.partPath, this.path);
    }
    this.close();
    return this.bytes;
  }

  /** Drops the partial file (the request was stopped or failed). */
  discard(): void {
    this.close();
    rmSync(this.partPath, { force: true });
  }

  /**
   * Writing where asked failed: the bytes received so far are copied, from the open file,
   * to a .part file in a fallback place (save-file.ts), where the transfer goes on.
   */
  private moveAside(cause: unknown): void {
    if (this.notWritten) throw cause; // already in the fallback place: nowhere else to go
    const old = { fd: this.fd, part: this.partPath };
    const saved = saveWith(
      this.wanted,
      (aside) => {
        const fd = openSync(`${aside}.part`, 'w+');
        try {
          copyBytes(old.fd, fd, this.bytes);
        } catch (e) {
          closeSync(fd);
          rmSync(`${aside}.part`, { force: true });
          throw e;
        }
        this.fd = fd;
      },
      cause,
    );
    this.path = saved.path;
    this.notWritten = saved.notWritten;
    if (old.fd >= 0) closeSync(old.fd);
    rmSync(old.part, { force: true });
  }

  private close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Copies the first `bytes` bytes of the file open as `from` to the end of `to`. */
function copyBytes(from: number, to: number, bytes: number): void {
  const buf = Buffer.alloc(Math.min(bytes, 1 << 20) || 1);
  for (let at = 0; at < bytes; ) {
    const n = readSync(from, buf, 0, Math.min(buf.length, bytes - at), at);
    if (n === 0) throw new Error(`the partial file ended at ${at} of ${bytes} bytes`);
    writeSync(to, buf, 0, n);
    at += n;
  }
}
