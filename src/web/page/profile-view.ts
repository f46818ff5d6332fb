// One profile on the page, however it came (live, uploaded, recorded): a flame graph,
// an icicle, a left-heavy graph, or the functions table with the sandwich view of the
// function picked; a thread filter when the profile has a root per thread. A live
// profile calls update() with each new aggregate; the view, zoom and search stay.
import type { FlameView } from '../../formats/flamegraph-app.js';
import { sandwich, threadRoots, toFlameData, type FunctionRow, type StackTable, type TreeOptions } from '../stack-table.js';
import { h } from './dom.js';
import { flamePanel, type FlamePanel } from './flame-panel.js';
import { functionTable } from './function-table.js';

type Mode = 'flame' | 'icicle' | 'left-heavy' | 'table';
const MODES: Array<[Mode, string]> = [
  ['flame', 'Flame graph'],
  ['icicle', 'Icicle'],
  ['left-heavy', 'Left-heavy'],
  ['table', 'Table'],
];

const viewOf = (m: Mode): Partial<FlameView> => ({ orientation: m === 'icicle' ? 'icicle' : 'flame', leftHeavy: m === 'left-heavy' });

export interface ProfileView {
  el: HTMLElement;
  update(table: StackTable): void;
}

export function profileView(initial: StackTable): ProfileView {
  let table = initial;
  let mode: Mode = 'flame';
  /** '' all threads merged; 'split' a root per thread; else a thread root's frame index */
  let threadChoice = '';
  let picked: FunctionRow | undefined;
  const opts = (): TreeOptions =>
    threadChoice === '' ? { mergeRoots: true } : threadChoice === 'split' ? {} : { through: Number(threadChoice) };

  const tabs = h('div', { class: 'tabs' });
  const threadSelect = h('select', {
    class: 'thread-filter',
    title: 'threads',
    onchange: () => {
      threadChoice = threadSelect.value;
      refresh();
    },
  });
  const body = h('div', { class: 'view-body' });
  const el = h('div', { class: 'profile-view' }, h('div', { class: 'toolbar' }, tabs, threadSelect), body);

  const flame: FlamePanel = flamePanel(toFlameData(table, opts()), viewOf(mode), { titles: true });
  const fnTable = functionTable((row) => {
    picked = row;
    drawSandwich();
  });
  const sandwichEl = h('div', { class: 'sandwich' });
  let callers: FlamePanel | undefined;
  let callees: FlamePanel | undefined;
  const drawSandwich = () => {
    if (!picked) {
      sandwichEl.replaceChildren(h('p', { class: 'muted' }, 'Click a function to see its callers (above it) and callees (below it).'));
      callers = callees = undefined;
      return;
    }
    const s = sandwich(table, picked.name, picked.location, opts());
    if (callers && callees && sandwichEl.isConnected && sandwichEl.dataset.fn === picked.name + picked.location) {
      callers.update(s.callers);
      callees.update(s.callees);
      return;
    }
    sandwichEl.dataset.fn = picked.name + picked.location;
    callers = flamePanel(s.callers, { orientation: 'flame' }, { titles: true });
    callees = flamePanel(s.callees, { orientation: 'icicle' }, { titles: true });
    sandwichEl.replaceChildren(callers.el, callees.el);
  };
  const tableBody = h('div', { class: 'table-mode' }, fnTable.el, sandwichEl);

  const drawTabs = () =>
    tabs.replaceChildren(
      ...MODES.map(([m, title]) =>
        h(
          'button',
          {
            type: 'button',
            class: m === mode ? 'tab active' : 'tab',
            'data-mode': m,
            onclick: () => {
              mode = m;
              drawTabs();
              show();
            },
          },
          title,
        ),
      ),
    );
  const drawThreads = () => {
    const roots = threadRoots(table);
    threadSelect.hidden = roots.length === 0;
    const want = ['', 'split', ...roots.map(String)];
    const have = [...threadSelect.options].map((o) => o.value);
    if (want.join('|') === have.join('|')) return;
    threadSelect.replaceChildren(
      h('option', { value: '' }, 'all threads, merged'),
      h('option', { value: 'split' }, 'one root per thread'),
      ...roots.map((r) => h('option', { value: String(r) }, table.frames[r][0])),
    );
    threadSelect.value = want.includes(threadChoice) ? threadChoice : '';
  };
  const show = () => {
    if (mode === 'table') {
      body.replaceChildren(tableBody);
      fnTable.update(table, opts());
      drawSandwich();
    } else {
      body.replaceChildren(flame.el);
      flame.setView(viewOf(mode));
    }
  };
  const refresh = () => {
    drawThreads();
    flame.update(toFlameData(table, opts()));
    if (mode === 'table') {
      fnTable.update(table, opts());
      if (picked) drawSandwich();
    }
  };
  drawTabs();
  drawThreads();
  show();
  return {
    el,
    update(t) {
      table = t;
      refresh();
    },
  };
}
