// Files that commands run for the pages wrote where the server runs (torch's traces and
// snapshots), offered back to the page as downloads. A page asks for one by the id given
// here when the command wrote it, never by a path: the server serves only what it wrote
// itself in this run, and nothing it did not.
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';

export interface WrittenFile {
  path: string;
  /** the name the browser saves it as */
  name: string;
}

export class WrittenFiles {
  private readonly files = new Map<string, WrittenFile>();

  /** Registers `path`, just written by a command; returns the id the page downloads it by. */
  add(path: string): string {
    const id = randomBytes(8).toString('hex');
    this.files.set(id, { path, name: basename(path) });
    return id;
  }

  get(id: string): WrittenFile | undefined {
    return this.files.get(id);
  }
}
