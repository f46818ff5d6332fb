// Saved profiles: open or drop a file (collapsed, speedscope, pprof; parsed by the
// server), see the ones uploaded, taken live or recorded into the server's directory
// since it started, and compare two as a differential flame graph.
import { diffFlameData, type StackTable } from '../stack-table.js';
import { getJson, postBytes } from './api.js';
import { h } from './dom.js';
import { flamePanel } from './flame-panel.js';
import { profileView } from './profile-view.js';

interface Listed {
  id: string;
  name: string;
  source: string;
  createdAt: number;
}

export function profilesPage(root: HTMLElement): () => void {
  const input = h('input', { type: 'file', class: 'upload', multiple: true, onchange: () => void uploadAll([...(input.files ?? [])]) });
  const drop = h('div', { class: 'drop' }, 'Drop profiles here, or ', input);
  const error = h('div', { class: 'error', hidden: true });
  const list = h('ul', { class: 'profile-list' });
  const before = h('select', { class: 'diff-before' });
  const after = h('select', { class: 'diff-after' });
  const compare = h('button', { type: 'button', class: 'diff-go', onclick: () => void showDiff() }, 'Compare');
  const viewer = h('div', { class: 'viewer' });
  root.replaceChildren(
    h('h2', {}, 'Profiles'),
    drop,
    error,
    h(
      'div',
      { class: 'columns' },
      h('section', {}, h('h3', {}, 'Opened and recorded since the server started'), list),
      h('section', {}, h('h3', {}, 'Compare two'), h('div', { class: 'controls' }, 'before ', before, ' after ', after, compare)),
    ),
    viewer,
  );
  const showError = (e: unknown) => {
    error.hidden = !e;
    const err = e as { message?: string; hint?: string } | undefined;
    error.textContent = err ? `${err.message}${err.hint ? ` (${err.hint})` : ''}` : '';
  };

  let profiles: Listed[] = [];
  const refreshList = async () => {
    profiles = (await getJson<{ profiles: Listed[] }>('/api/profiles')).profiles;
    list.replaceChildren(
      ...profiles.map((p) =>
        h(
          'li',
          {},
          h(
            'a',
            {
              href: '#',
              'data-id': p.id,
              onclick: (e: Event) => {
                e.preventDefault();
                void open(p.id);
              },
            },
            p.name,
          ),
          h('span', { class: 'muted' }, ` ${p.source} · ${new Date(p.createdAt).toLocaleTimeString()}`),
        ),
      ),
    );
    if (!profiles.length) list.replaceChildren(h('li', { class: 'muted' }, 'none yet'));
    for (const [sel, pick] of [
      [before, 1],
      [after, 0],
    ] as const) {
      const keep = sel.value;
      sel.replaceChildren(...profiles.map((p) => h('option', { value: p.id }, p.name)));
      sel.value = profiles.some((p) => p.id === keep) ? keep : (profiles[Math.min(pick, profiles.length - 1)]?.id ?? '');
    }
  };
  const table = async (id: string) => (await getJson<{ table: StackTable }>(`/api/profiles/${id}`)).table;
  const open = async (id: string) => {
    try {
      showError(undefined);
      const v = profileView(await table(id));
      viewer.replaceChildren(v.el);
    } catch (e) {
      showError(e);
    }
  };
  const uploadAll = async (files: File[]) => {
    let last: { id: string; table: StackTable } | undefined;
    showError(undefined);
    for (const f of files) {
      try {
        last = await postBytes<{ id: string; table: StackTable }>(`/api/profiles?name=${encodeURIComponent(f.name)}`, f);
      } catch (e) {
        showError({ message: `${f.name}: ${(e as Error).message}`, hint: (e as { hint?: string }).hint });
      }
    }
    input.value = '';
    await refreshList();
    if (last) viewer.replaceChildren(profileView(last.table).el);
  };
  const showDiff = async () => {
    try {
      showError(undefined);
      const [a, b] = await Promise.all([table(before.value), table(after.value)]);
      viewer.replaceChildren(
        h(
          'div',
          { class: 'diff-view' },
          flamePanel(diffFlameData(a, b, { mergeRoots: true }), { orientation: 'flame' }, { titles: true }).el,
        ),
      );
    } catch (e) {
      showError(e);
    }
  };
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void uploadAll([...(e.dataTransfer?.files ?? [])]);
  });
  refreshList().catch(showError);
  return () => undefined;
}
