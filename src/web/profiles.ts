// The profiles the profiles page lists: files uploaded to this server, live profiles
// taken on its pages, and profiles that `spyglass record` wrote into the server's
// directory since it started. Each has an id that the page asks for; nothing is opened
// by a path the page sends.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { StackProfile } from '../sampler/profile.js';
import { openProfile } from './import/index.js';
import { stackTableOf } from './profile-table.js';
import type { StackTable } from './stack-table.js';

export interface ProfileEntry {
  id: string;
  name: string;
  source: 'upload' | 'live' | 'recorded';
  createdAt: number;
  /** a live profile: every record format can be downloaded from it */
  profile?: StackProfile;
  table(): StackTable;
}

/** Names `record` gives its files by default (numbered when taken), in formats the page reads. */
const RECORDED = /^(profile(-\d+)?\.(speedscope\.json|collapsed\.txt|pb\.gz))$/;
const MAX_RECORDED_BYTES = 64 * 1024 * 1024;

export class ProfileRegistry {
  private readonly entries = new Map<string, ProfileEntry>();
  private readonly startedAt = Date.now();
  /** recorded files already registered: path → mtime */
  private readonly files = new Map<string, number>();

  constructor(private readonly dir: string | undefined) {}

  add(entry: Omit<ProfileEntry, 'id' | 'createdAt'>): ProfileEntry {
    const e = { ...entry, id: randomBytes(8).toString('hex'), createdAt: Date.now() };
    this.entries.set(e.id, e);
    return e;
  }

  addLive(name: string, profile: StackProfile): ProfileEntry {
    return this.add({ name, source: 'live', profile, table: () => stackTableOf(profile) });
  }

  get(id: string): ProfileEntry | undefined {
    this.scan();
    return this.entries.get(id);
  }

  list(): ProfileEntry[] {
    this.scan();
    return [...this.entries.values()].sort((a, b) => b.createdAt - a.createdAt);
  }

  /** Registers record's files written in the directory since the server started. */
  private scan(): void {
    if (!this.dir) return;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!RECORDED.test(name)) continue;
      const path = join(this.dir, name);
      let mtime: number;
      let size: number;
      try {
        const st = statSync(path);
        if (!st.isFile()) continue;
        mtime = st.mtimeMs;
        size = st.size;
      } catch {
        continue;
      }
      if (mtime < this.startedAt || this.files.get(path) === mtime || size > MAX_RECORDED_BYTES) continue;
      this.files.set(path, mtime);
      this.add({ name, source: 'recorded', table: () => openProfile(readFileSync(path), name) });
    }
  }
}
