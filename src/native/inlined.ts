// Which functions the compiler inlined at an address, innermost first, and where each
// inlined call sits: what `addr2line -i` prints and what gdb shows as frames of their
// own. The unit holding the address comes from .debug_aranges; only that unit's entries
// are read, once, and only for the frames shown (docs/native-unwinding.md §3).
import type { ElfFile } from '../proc/elf.js';
import { CompileUnits } from './compile-units.js';
import { DebugInfo, type UnitScopes } from './debug-info.js';
import { debugSection, debugSectionReader } from './debug-sections.js';
import { demangle } from './demangle.js';
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
  private readonly scopes = new Map<number, UnitScopes>();

  constructor(units: CompileUnits, info: DebugInfo, lines: LineTable) {
    this.units = units;
    this.info = info;
    this.lines = lines;
  }

  /** The functions inlined at link-time address pc; undefined when the code there is not inlined. */
  at(pc: number): InlineChain | undefined {
    const unit = this.units.unitAt(pc);
    if (unit === undefined) return undefined;
    let u = this.scopes.get(unit);
    if (!u) {
      u = this.info.unitScopes(unit);
      this.scopes.set(unit, u);
    }
    // scopes are in the order met, parents first: the last one covering pc is the innermost
    let inner = -1;
    for (let i = u.scopes.length - 1; i >= 0 && inner < 0; i--) {
      const r = u.scopes[i].ranges;
      for (let j = 0; j < r.length; j += 2) {
        if (pc >= r[j] && pc < r[j + 1]) {
          inner = i;
          break;
        }
      }
    }
    if (inner < 0 || !u.scopes[inner].inlined) return undefined;
    const names: string[] = [];
    const callSites: Array<SourceLine | undefined> = [];
    for (let i = inner; i >= 0 && u.scopes[i].inlined; i = u.scopes[i].parent) {
      const s = u.scopes[i];
      const name = this.info.nameOf(s.die);
      names.push(name ? (name.linkage ? demangle(name.name) : name.name) : UNNAMED);
      const file = s.callFile >= 0 && u.stmtList !== undefined ? this.lines.fileName(u.stmtList, s.callFile, u.compDir) : undefined;
      callSites.push(file && s.callLine > 0 ? { file, line: s.callLine } : undefined);
    }
    return { names, callSites };
  }
}

/**
 * The inlined-function index of elf (a module or its separate debug file), over its line
 * table; undefined when it has no .debug_info or no .debug_aranges to find units by.
 */
export function openInlined(elf: ElfFile, lines: LineTable): InlinedFunctions | undefined {
  const aranges = debugSection(elf, '.debug_aranges');
  const abbrev = aranges && debugSection(elf, '.debug_abbrev');
  const info = abbrev && debugSectionReader(elf, '.debug_info');
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
