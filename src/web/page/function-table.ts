// The functions of a profile as a sortable table (own and total samples, like `top`);
// clicking a row asks for its sandwich view.
import { functionRows, totalSamples, type FunctionRow, type StackTable, type TreeOptions } from '../stack-table.js';
import { h } from './dom.js';

type Column = 'name' | 'location' | 'own' | 'total';
const MAX_ROWS = 500;

export interface FunctionTable {
  el: HTMLElement;
  update(table: StackTable, o: TreeOptions): void;
}

export function functionTable(onPick: (row: FunctionRow) => void): FunctionTable {
  let sort: Column = 'own';
  let rows: FunctionRow[] = [];
  let total = 1;
  let rate: number | undefined;
  const tbody = h('tbody');
  const head = (col: Column, title: string) => {
    const th = h(
      'th',
      {
        class: `sortable col-${col}`,
        'data-col': col,
        onclick: () => {
          sort = col;
          draw();
        },
      },
      title,
    );
    return th;
  };
  const headRow = h(
    'tr',
    {},
    head('own', 'Own'),
    h('th', {}, 'Own %'),
    head('total', 'Total'),
    h('th', {}, 'Total %'),
    head('name', 'Function'),
    head('location', 'Location'),
  );
  const el = h('table', { class: 'functions' }, h('thead', {}, headRow), tbody);
  const amount = (n: number) => (rate ? `${(n / rate).toFixed(2)} s` : String(Math.round(n * 100) / 100));
  const draw = () => {
    for (const th of headRow.querySelectorAll('th.sortable')) th.classList.toggle('sorted', th.getAttribute('data-col') === sort);
    const sorted = [...rows].sort((a, b) =>
      sort === 'name' || sort === 'location'
        ? a[sort].localeCompare(b[sort])
        : b[sort] - a[sort] || b.total - a.total || a.name.localeCompare(b.name),
    );
    tbody.replaceChildren(
      ...sorted
        .slice(0, MAX_ROWS)
        .map((r) =>
          h(
            'tr',
            { onclick: () => onPick(r), title: 'callers and callees' },
            h('td', { class: 'num' }, amount(r.own)),
            h('td', { class: 'num' }, ((100 * r.own) / total).toFixed(1) + '%'),
            h('td', { class: 'num' }, amount(r.total)),
            h('td', { class: 'num' }, ((100 * r.total) / total).toFixed(1) + '%'),
            h('td', { class: 'fn' }, r.name),
            h('td', { class: 'muted' }, r.location),
          ),
        ),
    );
  };
  return {
    el,
    update(table, o) {
      rows = functionRows(table, o);
      total = totalSamples(table) || 1;
      rate = table.rate;
      draw();
    },
  };
}
