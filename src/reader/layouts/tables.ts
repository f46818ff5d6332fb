// The generated per-version tables for 3.8-3.12 (scripts/gen-offsets/ writes them from
// each interpreter's own headers), turned into the walk's Layout. v3_13.json is not
// loaded: 3.13+ is read through _Py_DebugOffsets, and that table only cross-checks it.
import type { Layout } from './types.js';
import v3_8 from './v3_8.json' with { type: 'json' };
import v3_9 from './v3_9.json' with { type: 'json' };
import v3_10 from './v3_10.json' with { type: 'json' };
import v3_11 from './v3_11.json' with { type: 'json' };
import v3_12 from './v3_12.json' with { type: 'json' };

/** A generated table as gen.mjs writes it. */
export type LayoutTable = Omit<Layout, 'source' | 'code' | 'iframe'> & {
  generatedFrom: string;
  code: Omit<Layout['code'], 'lineTableFormat'>;
  iframe?: Omit<NonNullable<Layout['iframe']>, 'skipOwnerFrom' | 'tagged'> & { ownedByCStack?: number };
};

const TABLES: Record<number, LayoutTable> = { 8: v3_8, 9: v3_9, 10: v3_10, 11: v3_11, 12: v3_12 };

export const TABLE_MINORS = Object.keys(TABLES).map(Number);

export function layoutFromTable(table: LayoutTable): Layout {
  const { generatedFrom, iframe, code, ...rest } = table;
  const minor = table.minor;
  return {
    ...rest,
    source: `table v3_${minor}.json (generated from ${generatedFrom} headers)`,
    code: { ...code, lineTableFormat: minor <= 9 ? 'lnotab' : minor === 10 ? 'linetable' : 'locations' },
    iframe: iframe && {
      size: iframe.size,
      previous: iframe.previous,
      code: iframe.code,
      instr: iframe.instr,
      localsplus: iframe.localsplus,
      owner: iframe.owner,
      isEntry: iframe.isEntry,
      skipOwnerFrom: iframe.ownedByCStack,
      tagged: false,
    },
  };
}

export function tableLayout(minor: number): Layout | undefined {
  const t = TABLES[minor];
  return t && layoutFromTable(t);
}
