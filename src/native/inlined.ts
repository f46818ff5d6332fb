// Which functions the compiler inlined at an address, innermost first, and where each
// inlined call sits: what `addr2line -i` prints and what gdb shows as frames of their
// own. The unit holding the address comes from .debug_aranges; only that unit's entries
// are read, once, and only for the frames shown (docs/native-unwinding.md §3).
import type { ElfFile } from '../proc/elf.js';
import { CompileUnits } from './compile-units.js';
import { DebugInfo, type UnitFunctions } from './debug-info.js';
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
    let u = this.unitFunctions.get(unit);
    if (!u) {
      u = this.info.unitFunctions(unit);
      this.unitFunctions.set(unit, u);
    }
    let fi = u.functions.length - 1;
    while (fi >= 0 && !covers(u.functions[fi].ranges, pc)) fi--;
    if (fi < 0) return undefined;
    const f = u.functions[fi];
    // parents come before their children: the last scope covering pc is the innermost
    const scopes = this.info.functionScopes(unit, f);
    let inner = -1;
    for (let i = scopes.length - 1; i >= 0 && inner < 0; i--) if (covers(scopes[i].ranges, pc)) inner = i;
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

function covers(ranges: number[], pc: number): boolean {
  for (let j = 0; j < ranges.length; j += 2) if (pc >= ranges[j] && pc < ranges[j + 1]) return true;
  return false;
}

/**
 * The inlined-function index of elf (a module or its separate debug file), over its line
 * table; undefined when it has no .debug_info or no .debug_aranges to find units by.
 * file: elf's file in the pool of open files, which .debug_info is read through later
 * (elf may then be closed).
 */
export function openInlined(elf: ElfFile, lines: LineTable, file?: PooledFile): InlinedFunctions | undefined {
  const aranges = debugSection(elf, '.debug_aranges');
  const abbrev = aranges && debugSection(elf, '.debug_abbrev');
  const info = abbrev && debugSectionReader(elf, '.debug_info', file);
  if (!aranges || !abbrev || !info) return undefined;
  const str = debugSection(elf, '.debug_str');
  const lineStr = debugSection(elf, '.debug_line_str');
  const units = new CompileUnits({ aranges, abbrev, info, str, lineStr });
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
