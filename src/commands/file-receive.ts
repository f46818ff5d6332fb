// The client side of agent/spyglass_agent/commands/torch/file_transfer.py: a file the target wrote (a
// torch trace or snapshot) arrives as base64 `file_chunk` events and is written where the
// user runs spyglass. It goes to DEST.part first and is renamed once its size and SHA-256
// match what the agent sent, so a stopped or broken transfer never leaves a file that
// looks complete.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.js';

/** -f PATH as the user meant it: ~ expanded, relative to the directory spyglass runs in. */
export function outputPath(cwd: string, given: string): string {
  const path = given === '~' ? homedir() : given.startsWith('~/') ? join(homedir(), given.slice(2)) : given;
  const full = isAbsolute(path) ? path : resolve(cwd, path);
  const dir = dirname(full);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`cannot write ${full}: the directory ${dir} does not exist`, 'create it, or give another path with -f');
  return full;
}

export class FileReceiver {
  private readonly partPath: string;
  private fd: number;
  private readonly hash = createHash('sha256');
  private nextSeq = 0;
  private bytes = 0;

  constructor(readonly path: string) {
    this.partPath = `${path}.part`;
    this.fd = openSync(this.partPath, 'w');
  }

  chunk(data: unknown): void {
    const { seq, data: b64 } = data as { seq: number; data: string };
    if (seq !== this.nextSeq) throw new Error(`file transfer: chunk ${seq} arrived, ${this.nextSeq} expected`);
    const buf = Buffer.from(b64, 'base64');
    writeSync(this.fd, buf);
    this.hash.update(buf);
    this.bytes += buf.length;
    this.nextSeq++;
  }

  /** Checks the whole file against the agent's figures and puts it in place. */
  finish(expected: { bytes?: number; sha256?: string; complete?: boolean }): number {
    this.close();
    const sha = this.hash.digest('hex');
    if (expected.complete === false || expected.bytes !== this.bytes || expected.sha256 !== sha) {
      this.discard();
      throw new UserError(`the transfer of ${this.path} was incomplete (${this.bytes} of ${expected.bytes ?? '?'} bytes); nothing was written`);
    }
    renameSync(this.partPath, this.path);
    return this.bytes;
  }

  /** Drops the partial file (the request was stopped or failed). */
  discard(): void {
    this.close();
    rmSync(this.partPath, { force: true });
  }

  private close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
