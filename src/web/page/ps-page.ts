// The processes page: `spyglass ps` with CPU, memory and threads, refreshed every two
// seconds, filterable by any column's text; a pid opens the process's page.
import type { ProcessRow } from '../process-rows.js';
import { getJson } from './api.js';
import { fmtBytes, h } from './dom.js';

const REFRESH_MS = 2000;

export function psPage(root: HTMLElement): () => void {
  const filter = h('input', {
    type: 'search',
    class: 'filter',
    placeholder: 'Filter: pid, version, user, command',
    autocomplete: 'off',
    oninput: () => draw(),
  });
  const status = h('span', { class: 'muted' });
  const tbody = h('tbody');
  root.replaceChildren(
    h('h2', {}, 'Python processes'),
    h('div', { class: 'controls' }, filter, status),
    h(
      'table',
      { class: 'processes' },
      h('thead', {}, h('tr', {}, ...['PID', 'Python', 'User', 'CPU %', 'RSS', 'Threads', 'Command'].map((t) => h('th', {}, t)))),
      tbody,
    ),
  );
  let rows: ProcessRow[] = [];
  const draw = () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = rows.filter((r) => {
      const text = `${r.pid} ${r.version} ${r.build} ${r.user} ${r.command}`.toLowerCase();
      return words.every((w) => text.includes(w));
    });
    tbody.replaceChildren(
      ...shown.map((r) =>
        h(
          'tr',
          { 'data-pid': r.pid },
          h('td', { class: 'num' }, h('a', { href: `#/process/${r.pid}` }, r.pid)),
          h('td', {}, r.version, r.build !== '?' ? h('span', { class: 'muted' }, ` ${r.build}`) : null),
          h('td', {}, r.user),
          h('td', { class: 'num' }, r.cpuPct === null ? '?' : r.cpuPct.toFixed(1)),
          h('td', { class: 'num' }, fmtBytes(r.rssBytes)),
          h('td', { class: 'num' }, r.threads ?? '?'),
          h('td', { class: 'cmd' }, r.command),
        ),
      ),
    );
    status.textContent = `${shown.length} of ${rows.length} processes`;
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let gone = false;
  const load = async () => {
    try {
      rows = (await getJson<{ rows: ProcessRow[] }>('/api/ps')).rows;
      draw();
    } catch (e) {
      status.textContent = `cannot list processes: ${(e as Error).message}`;
    }
    if (!gone) timer = setTimeout(load, REFRESH_MS);
  };
  void load();
  return () => {
    gone = true;
    clearTimeout(timer);
  };
}
