// A flame graph on the page: record's component (formats/flamegraph-app.ts) drawn into a
// panel with its own search box, reset button, breadcrumbs and tooltip.
import { flamegraphApp, type FlameController, type FlameData, type FlameView } from '../../formats/flamegraph-app.js';
import { h, svg } from './dom.js';

export interface FlamePanel {
  el: HTMLElement;
  update(data: FlameData): void;
  setView(v: Partial<FlameView>): void;
}

export function flamePanel(data: FlameData, view: Partial<FlameView> = {}, opts: { titles?: boolean } = {}): FlamePanel {
  const chart = svg('svg', { class: 'fg-chart' });
  const el = h(
    'div',
    { class: 'flame' },
    opts.titles ? h('div', { class: 'fg-title' }) : null,
    opts.titles ? h('div', { class: 'fg-subtitle muted' }) : null,
    h(
      'div',
      { class: 'controls' },
      h('input', { class: 'fg-search', type: 'search', placeholder: 'Search functions or file:line (regex)', autocomplete: 'off' }),
      h('button', { class: 'fg-reset', type: 'button' }, 'Reset zoom'),
      h('span', { class: 'fg-matched' }),
    ),
    h('nav', { class: 'fg-crumbs' }),
    chart,
    h('div', { class: 'fg-tooltip', hidden: true }),
  );
  let app: FlameController | undefined;
  // the component measures its panel: it starts drawing once the panel is in the page
  const start = () => {
    app = flamegraphApp(data, { root: el });
    if (Object.keys(view).length) app.setView(view);
  };
  requestAnimationFrame(start);
  return {
    el,
    update(d) {
      data = d;
      app?.update(d);
    },
    setView(v) {
      Object.assign(view, v);
      app?.setView(v);
    },
  };
}
