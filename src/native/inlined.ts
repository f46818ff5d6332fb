// Which functions the compiler inlined at an address, innermost first, and where each
// inlined call sits: what `addr2line -i` prints and what gdb shows as frames of their
// own. The unit holding the address comes from .debug_aranges; only that unit's entries
// are read, once, and only for the frames shown; a function's answers for all its
// addresses are kept in the native index (chainsIn), so the next run reads none of this
// (docs/native-unwinding.md §3, docs/native-index.md).
import type { ElfFile } from '../proc/elf.js';
import { CompileUnits } from './compile-units.js';
import { DebugInfo, type FunctionScopes, type Scope, type UnitFunctions } from './debug-info.js';
import { debugSection, debugSectionReader } from './debug-sections.js';
import { demangle } from './demangle.js';
import type { PooledFile } from './file-pool.js';
import type { LineTable, SourceLine } from './line-table.js';

/** The functions inlined at one address. */
export interface InlineChain {
  /** innermost first; each is a frame of its own, shown above the real function */
  names: string[];
  /**
   * per inlined function, where its call is in the function around it (the next in
   * names, or the real function for the last); undefined when the entry does not say
   */
  callSites: Array<SourceLine | undefined>;
}

/** The chains of a function's addresses: each row holds from its address up to the next row's. */
export interface InlineRows {
  /** ascending */
  addr: ArrayLike<number>;
  /** undefined: nothing inlined there */
  chain: ArrayLike<InlineChain | undefined>;
}

/** what a function whose entries give no name is shown as (addr2line's word for it) */
const UNNAMED = '??';

export class InlinedFunctions {
  private readonly units: CompileUnits;
  private readonly info: DebugInfo;
  private readonly lines: LineTable;
  private readonly unitFunctions = new Map<number, UnitFunctions>();

  constructor(units: CompileUnits, info: DebugInfo, lines: LineTable) {
    this.units = units;
    this.info = info;
    this.lines = lines;
  }

  /** The functions inlined at link-time address pc; undefined when the code there is not inlined. */
  at(pc: number): InlineChain | undefined {
    const unit = this.units.unitAt(pc);
    if (unit === undefined) return undefined;
    const u = this.functionsOf(unit);
    const f = lastCovering(u.functions, pc);
    if (!f) return undefined;
    // parents come before their children: the last scope covering pc is the innermost
    const scopes = this.info.functionScopes(unit, f);
    let inner = -1;
    for (let i = scopes.length - 1; i >= 0 && inner < 0; i--) if (covers(scopes[i].ranges, pc)) inner = i;
    return this.chainOf(u, scopes, inner);
  }

  /**
   * The chains of every address in [start, end) (a function's link-time range), as rows:
   * each holds from its address up to the next one's, what module-index.ts stores so that
   * a later run never reads .debug_info for this function again. The answer is at()'s for
   * each address: it changes only where a unit's, a function's or an inlined scope's
   * range starts or ends, so it is found once at each such point inside [start, end)
   * (the first row is at start), in one sweep over them.
   */
  chainsIn(start: number, end: number): InlineRows {
    const cuts = new Set<number>([start]);
    const inside = (x: number) => {
      if (x > start && x < end) cuts.add(x);
    };
    // per unit met: its functions that reach into [start, end), in the order met
    const candidates = new Map<number, FunctionScopes[]>();
    const sweeps = new Map<FunctionScopes, ScopeSweep>();
    for (const unit of this.units.unitsIn(start, end, inside)) {
      const fns = this.functionsOf(unit).functions.filter((f) => overlaps(f.ranges, start, end));
      candidates.set(unit, fns);
      for (const f of fns) {
        eachBound(f.ranges, inside);
        const scopes = this.info.functionScopes(unit, f);
        for (const s of scopes) if (overlaps(s.ranges, start, end)) eachBound(s.ranges, inside);
        sweeps.set(f, new ScopeSweep(scopes));
      }
    }
    const addr: number[] = [];
    const chain: Array<InlineChain | undefined> = [];
    // per function and innermost scope: its chain, and that chain as text (to compare)
    const made = new Map<FunctionScopes, Map<number, { c: InlineChain | undefined; key: string }>>();
    let lastKey: string | undefined;
    for (const pc of [...cuts].sort((a, b) => a - b)) {
      // every function's sweep moves on, so that each is asked in ascending order
      for (const sweep of sweeps.values()) sweep.moveTo(pc);
      const unit = this.units.unitAt(pc);
      const f = unit === undefined ? undefined : lastCovering(candidates.get(unit) ?? [], pc);
      let c: InlineChain | undefined;
      let key = '';
      if (unit !== undefined && f) {
        const inner = sweeps.get(f)!.innermost();
        let byInner = made.get(f);
        if (!byInner) made.set(f, (byInner = new Map()));
        let m = byInner.get(inner);
        if (!m) {
          const got = this.chainOf(this.functionsOf(unit), f.scopes!, inner);
          m = { c: got, key: got ? JSON.stringify(got) : '' };
          byInner.set(inner, m);
        }
        ({ c, key } = m);
      }
      // neighbouring addresses with the same chain are one row
      if (key === lastKey) continue;
      lastKey = key;
      addr.push(pc);
      chain.push(c);
    }
    return { addr, chain };
  }

  private functionsOf(unit: number): UnitFunctions {
    let u = this.unitFunctions.get(unit);
    if (!u) {
      u = this.info.unitFunctions(unit);
      this.unitFunctions.set(unit, u);
    }
    return u;
  }

  /** The chain from scopes[inner] (of a function of unit u) out; undefined when inner is not an inlined scope. */
  private chainOf(u: UnitFunctions, scopes: Scope[], inner: number): InlineChain | undefined {
    if (inner < 0 || !scopes[inner].inlined) return undefined;
    const names: string[] = [];
    const callSites: Array<SourceLine | undefined> = [];
    for (let i = inner; i >= 0 && scopes[i].inlined; i = scopes[i].parent) {
      const s = scopes[i];
      const name = this.info.nameOf(s.die);
      names.push(name ? (name.linkage ? demangle(name.name) : name.name) : UNNAMED);
      const file = s.callFile >= 0 && u.stmtList !== undefined ? this.lines.fileName(u.stmtList, s.callFile, u.compDir) : undefined;
      callSites.push(file && s.callLine > 0 ? { file, line: s.callLine } : undefined);
    }
    return { names, callSites };
  }
}

/**
 * Which of a function's scopes cover an address, for addresses met in ascending order: the
 * scopes' ranges start and end as the address moves (a big function, the evaluation loop,
 * has thousands of scopes, asked about at thousands of addresses).
 */
class ScopeSweep {
  /** [address, scope] per range start, and per range end, each sorted by address */
  private readonly opens: Array<[number, number]> = [];
  private readonly closes: Array<[number, number]> = [];
  private o = 0;
  private c = 0;
  /** per scope covering the address: how many of its ranges do */
  private readonly active = new Map<number, number>();

  constructor(scopes: Scope[]) {
    scopes.forEach((s, i) => {
      for (let j = 0; j < s.ranges.length; j += 2) {
        if (s.ranges[j] >= s.ranges[j + 1]) continue;
        this.opens.push([s.ranges[j], i]);
        this.closes.push([s.ranges[j + 1], i]);
      }
    });
    this.opens.sort((a, b) => a[0] - b[0]);
    this.closes.sort((a, b) => a[0] - b[0]);
  }

  moveTo(pc: number): void {
    for (; this.o < this.opens.length && this.opens[this.o][0] <= pc; this.o++) {
      const i = this.opens[this.o][1];
      this.active.set(i, (this.active.get(i) ?? 0) + 1);
    }
    for (; this.c < this.closes.length && this.closes[this.c][0] <= pc; this.c++) {
      const i = this.closes[this.c][1];
      const n = this.active.get(i)! - 1;
      if (n > 0) this.active.set(i, n);
      else this.active.delete(i);
    }
  }

  /** The last scope (in their order) covering the address moved to, as at() finds it; -1 for none. */
  innermost(): number {
    let inner = -1;
    for (const i of this.active.keys()) if (i > inner) inner = i;
    return inner;
  }
}

/** The last of fns (in the order met) with a range covering pc. */
function lastCovering(fns: FunctionScopes[], pc: number): FunctionScopes | undefined {
  for (let i = fns.length - 1; i >= 0; i--) if (covers(fns[i].ranges, pc)) return fns[i];
  return undefined;
}

function covers(ranges: number[], pc: number): boolean {
  for (let j = 0; j < ranges.length; j += 2) if (pc >= ranges[j] && pc < ranges[j + 1]) return true;
  return false;
}

/** Does one of the [start, end) pairs of ranges reach into [start, end)? */
function overlaps(ranges: number[], start: number, end: number): boolean {
  for (let j = 0; j < ranges.length; j += 2) if (ranges[j] < end && ranges[j + 1] > start) return true;
  return false;
}

function eachBound(ranges: number[], visit: (x: number) => void): void {
  for (const x of ranges) visit(x);
}

/**
 * The inlined-function index of elf (a module or its separate debug file), over its line
 * table; undefined when it has no .debug_info or no .debug_aranges to find units by.
 * file: elf's file in the pool of open files, which .debug_info is read through later
 * (elf may then be closed).
 */
export function openInlined(elf: ElfFile, lines: LineTable, file?: PooledFile): InlinedFunctions | undefined {
  // the sections the line table already read (decompressed: libc's debug file's .debug_info
  // is 2.3 MB of zlib) are not read a second time
  const shared = lines.units instanceof CompileUnits ? lines.units : undefined;
  const aranges = shared?.s.aranges ?? debugSection(elf, '.debug_aranges');
  const abbrev = aranges && (shared?.s.abbrev ?? debugSection(elf, '.debug_abbrev'));
  const info = abbrev && (shared?.s.info ?? debugSectionReader(elf, '.debug_info', file));
  if (!aranges || !abbrev || !info) return undefined;
  const str = lines.str;
  const lineStr = lines.lineStr;
  const units = shared ?? new CompileUnits({ aranges, abbrev, info, str, lineStr });
  if (!units.size) return undefined;
  const die = new DebugInfo({
    info,
    abbrev,
    str,
    lineStr,
    strOffsets: debugSection(elf, '.debug_str_offsets'),
    addr: debugSection(elf, '.debug_addr'),
    ranges: debugSection(elf, '.debug_ranges'),
    rnglists: debugSection(elf, '.debug_rnglists'),
  });
  return new InlinedFunctions(units, die, lines);
}
