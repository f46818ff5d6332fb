// What locate and the reader learn about an interpreter's files (its executable and
// libpython): the few symbols they look up, the entry point, where the first segment is
// linked, and the version. The same files are met run after run, and opening and parsing
// their ELF headers and symbol tables was a third of a `dump`'s own time, so the answers
// are kept on disk, one record per file, keyed by what identifies the file, and a file is
// only opened for a question not answered before (docs/binary-facts.md).
import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, isPrivate, privateDir } from '../cache-dir.js';
import type { ElfFile, ElfSymbol } from '../proc/elf.js';
import type { PythonVersion } from './locate.js';

/** The part of an ELF file that locate and the reader ask about. */
export interface ElfFacts {
  readonly entry: bigint;
  readonly firstLoadVaddr: bigint;
  symbol(name: string): ElfSymbol | undefined;
  exported(name: string): ElfSymbol | undefined;
  /** a section's link-time address and size */
  section(name: string): { addr: bigint; size: bigint } | undefined;
  close(): void;
}

/** What is kept about one file. Numbers are hex strings (64-bit values); null: looked up, absent. */
interface FileRecord {
  /** when last used (ms since the epoch), for dropping the least recently used */
  used: number;
  entry?: string;
  firstLoad?: string;
  sym: Record<string, [string, string] | null>;
  exp: Record<string, [string, string] | null>;
  sec: Record<string, [string, string] | null>;
  version?: PythonVersion;
}

interface Store {
  format: number;
  files: Record<string, FileRecord>;
}

/** bumped when a record's meaning changes: a file of another format is ignored */
const FORMAT = 1;
/** records kept: the least recently used go past this */
const MAX_FILES = 64;
/** a store file larger than this is not read */
const MAX_BYTES = 1 << 20;

const hex = (v: bigint) => v.toString(16);
const big = (s: string) => BigInt(`0x${s}`);
/** a value as this module writes it (anything else in the file is asked of the file again) */
const isHex = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{1,16}$/.test(s);

/** The store's directory and file, or undefined without a usable home. */
function storePaths(): { dir: string; file: string } | undefined {
  const dir = cacheRoot();
  return dir === undefined ? undefined : { dir, file: join(dir, `binaries.v${FORMAT}.json`) };
}

function readStore(): Store {
  const empty: Store = { format: FORMAT, files: {} };
  const p = storePaths();
  if (!p) return empty;
  try {
    if (!privateDir(p.dir)) return empty;
    const fd = openSync(p.file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || !isPrivate(st, false) || st.size > MAX_BYTES) return empty;
      const store = JSON.parse(readFileSync(fd, 'utf8')) as Store;
      return store?.format === FORMAT && typeof store.files === 'object' && store.files !== null ? store : empty;
    } finally {
      closeSync(fd);
    }
  } catch {
    return empty; // none yet, or none to trust: the files are read again
  }
}

/** The file's identity: a replaced or rebuilt file is another file. */
function identity(path: string): string | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return st.isFile() ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One store per command: the records it read at the first question and those it
 * changed, written back (whole, then renamed over the old file) by save().
 */
export class BinaryFacts {
  private store?: Store;
  private changed = false;

  /** The facts of the file at path, answered from the store where it can be, else by open(). */
  file(path: string, open: () => ElfFile): ElfFacts {
    const id = identity(path);
    if (id === undefined) return open(); // nothing to key it by: ask the file itself
    this.store ??= readStore();
    const files = this.store.files;
    const isTable = (t: unknown) => typeof t === 'object' && t !== null && !Array.isArray(t);
    let rec = files[id];
    if (!isTable(rec) || !isTable(rec.sym) || !isTable(rec.exp) || !isTable(rec.sec) || typeof rec.used !== 'number') {
      rec = files[id] = { used: 0, sym: {}, exp: {}, sec: {} };
    }
    // a day's granularity is enough to tell the files in use from those left behind
    const today = Math.floor(Date.now() / 86400000) * 86400000;
    if (rec.used !== today) {
      rec.used = today;
      this.changed = true;
    }
    return new RememberedElf(rec, open, () => (this.changed = true));
  }

  /** The version kept with a file's record, or undefined. */
  version(facts: ElfFacts): PythonVersion | undefined {
    const v = facts instanceof RememberedElf ? facts.rec.version : undefined;
    return v && typeof v.text === 'string' && Number.isInteger(v.major) && Number.isInteger(v.minor) ? v : undefined;
  }

  rememberVersion(facts: ElfFacts, version: PythonVersion): void {
    if (facts instanceof RememberedElf && facts.rec.version?.text !== version.text) {
      facts.rec.version = version;
      this.changed = true;
    }
  }

  /** Writes what was learnt, if anything was; a failure (read-only home, full disk) only costs the next run the reads. */
  save(): void {
    if (!this.changed || !this.store) return;
    const p = storePaths();
    if (!p) return;
    this.changed = false;
    try {
      mkdirSync(p.dir, { recursive: true, mode: 0o700 });
      if (!privateDir(p.dir)) return;
      const entries = Object.entries(this.store.files).sort((a, b) => b[1].used - a[1].used);
      const store: Store = { format: FORMAT, files: Object.fromEntries(entries.slice(0, MAX_FILES)) };
      const tmp = `${p.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(store), { mode: 0o600, flag: 'wx' });
      renameSync(tmp, p.file);
    } catch {
      /* the next run reads the files again */
    }
  }
}

class RememberedElf implements ElfFacts {
  private elf?: ElfFile;

  constructor(
    readonly rec: FileRecord,
    private readonly open: () => ElfFile,
    private readonly learnt: () => void,
  ) {}

  private get real(): ElfFile {
    this.elf ??= this.open();
    return this.elf;
  }

  get entry(): bigint {
    if (!isHex(this.rec.entry)) {
      this.rec.entry = hex(this.real.entry);
      this.learnt();
    }
    return big(this.rec.entry);
  }

  get firstLoadVaddr(): bigint {
    if (!isHex(this.rec.firstLoad)) {
      this.rec.firstLoad = hex(this.real.firstLoadVaddr);
      this.learnt();
    }
    return big(this.rec.firstLoad);
  }

  symbol(name: string): ElfSymbol | undefined {
    return this.lookup(this.rec.sym, name, () => this.real.symbol(name));
  }

  exported(name: string): ElfSymbol | undefined {
    return this.lookup(this.rec.exp, name, () => this.real.exported(name));
  }

  section(name: string): { addr: bigint; size: bigint } | undefined {
    const s = this.lookup(this.rec.sec, name, () => {
      const sec = this.real.section(name);
      return sec && { value: sec.addr, size: sec.size };
    });
    return s && { addr: s.value, size: s.size };
  }

  private lookup(table: Record<string, [string, string] | null>, name: string, ask: () => ElfSymbol | undefined): ElfSymbol | undefined {
    const known = Object.hasOwn(table, name) ? table[name] : undefined;
    if (known === null) return undefined;
    if (Array.isArray(known) && isHex(known[0]) && isHex(known[1])) {
      return { value: big(known[0]), size: big(known[1]) };
    }
    const found = ask();
    table[name] = found ? [hex(found.value), hex(found.size)] : null;
    this.learnt();
    return found;
  }

  close(): void {
    this.elf?.close();
  }
}
