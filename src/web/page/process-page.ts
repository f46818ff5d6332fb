// One process, read from outside (nothing injected): its threads and stacks every
// second (pausable), and a live profile started with a click: the functions table and
// flame graph fill in as samples arrive (the server sends the aggregate each second),
// with pause, reset, GIL/idle filters, downloads in every record format, and the share
// of time some thread held the GIL.
import type { ServerMessage, WireThread } from '../protocol.js';
import { download, openSocket } from './api.js';
import { percentChart } from './chart.js';
import { h } from './dom.js';
import { profileView, type ProfileView } from './profile-view.js';

const EXTENSIONS: Record<string, string> = {
  flamegraph: 'html',
  speedscope: 'speedscope.json',
  collapsed: 'collapsed.txt',
  pprof: 'pb.gz',
  chrometrace: 'trace.json',
};

export function processPage(root: HTMLElement, pid: number): () => void {
  const stacksStatus = h('span', { class: 'muted' });
  const threadsEl = h('div', { class: 'threads' });
  let stacksOn = true;
  const pauseStacks = h('button', { type: 'button', class: 'pause-stacks', onclick: () => setStacks(!stacksOn) }, 'Pause');
  const liveErr = h('div', { class: 'error', hidden: true });
  const stacksErr = h('div', { class: 'error', hidden: true });

  const rate = h(
    'select',
    { class: 'rate' },
    ...[10, 50, 100, 250, 1000].map((r) => h('option', { value: r, selected: r === 100 }, `${r} Hz`)),
  );
  const gil = h('input', {
    type: 'checkbox',
    class: 'gil-filter',
    onchange: () => sock.send({ op: 'live-filter', gil: gil.checked, idle: idle.checked }),
  });
  const idle = h('input', {
    type: 'checkbox',
    class: 'idle-filter',
    onchange: () => sock.send({ op: 'live-filter', gil: gil.checked, idle: idle.checked }),
  });
  let liveOn = false;
  let paused = false;
  let profileId = '';
  const startBtn = h(
    'button',
    { type: 'button', class: 'live-start primary', onclick: () => (liveOn ? stopLive() : startLive()) },
    'Start live profile',
  );
  const pauseBtn = h(
    'button',
    { type: 'button', class: 'live-pause', disabled: true, onclick: () => sock.send({ op: paused ? 'live-resume' : 'live-pause' }) },
    'Pause',
  );
  const resetBtn = h(
    'button',
    {
      type: 'button',
      class: 'live-reset',
      disabled: true,
      onclick: () => {
        chart.clear();
        sock.send({ op: 'live-reset' });
      },
    },
    'Reset',
  );
  const downloads = h('span', { class: 'downloads', hidden: true });
  const drawDownloads = (formats: readonly string[]) => {
    if (downloads.childElementCount === formats.length) return;
    downloads.replaceChildren(
      'Download: ',
      ...formats.map((f) =>
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            'data-format': f,
            onclick: () => void download(`/api/profiles/${profileId}/download?format=${f}`, `profile-${pid}.${EXTENSIONS[f] ?? f}`),
          },
          f,
        ),
      ),
    );
  };
  const liveStatus = h('span', { class: 'muted live-status' });
  const holders = h('div', { class: 'muted holders' });
  const chart = percentChart('GIL held (% of samples, per second)');
  const liveBody = h('div', { class: 'live-body' });
  let view: ProfileView | undefined;

  root.replaceChildren(
    h('h2', {}, `Process ${pid}`, h('span', { class: 'muted python' })),
    h(
      'p',
      {},
      h('a', { href: `#/attach/${pid}`, class: 'attach' }, 'Attach: open the shell inside the process'),
      h('span', { class: 'muted' }, ' (injects the agent; leaving that page removes every hook)'),
    ),
    h(
      'section',
      {},
      h('h3', {}, 'Live profile'),
      h(
        'div',
        { class: 'controls' },
        startBtn,
        pauseBtn,
        resetBtn,
        rate,
        h('label', {}, gil, ' only the GIL holder'),
        h('label', {}, idle, ' idle threads too'),
        downloads,
        liveStatus,
      ),
      liveErr,
      h('div', { class: 'gil-row' }, chart.el, holders),
      liveBody,
    ),
    h('section', {}, h('h3', {}, 'Threads', ' ', pauseStacks, ' ', stacksStatus), stacksErr, threadsEl),
  );

  const showError = (el: HTMLElement, m: { message: string; hint?: string } | undefined) => {
    el.hidden = !m;
    el.textContent = m ? m.message + (m.hint ? ` (${m.hint})` : '') : '';
  };
  const drawThreads = (threads: WireThread[]) => {
    threadsEl.replaceChildren(
      ...threads.map((t) =>
        h(
          'details',
          { class: 'thread', open: true },
          h(
            'summary',
            {},
            h('span', { class: 'thread-name' }, t.name ?? '(unnamed)'),
            ` tid ${t.tid ?? '?'} `,
            h('span', { class: `state state-${t.state}` }, t.state),
          ),
          h(
            'ol',
            { class: 'frames' },
            ...t.frames.map((f) =>
              h('li', {}, h('span', { class: 'fn' }, f.name), h('span', { class: 'muted' }, ` ${f.filename}${f.line ? ':' + f.line : ''}`)),
            ),
          ),
          t.frames.length ? null : h('div', { class: 'muted' }, '(no Python frames)'),
        ),
      ),
    );
  };
  const onMessage = (m: ServerMessage) => {
    switch (m.type) {
      case 'stacks':
        showError(stacksErr, undefined);
        (root.querySelector('.python') as HTMLElement).textContent = ` · Python ${m.python}`;
        stacksStatus.textContent = `${m.threads.length} threads · read ${new Date().toLocaleTimeString()}`;
        if (stacksOn) drawThreads(m.threads);
        return;
      case 'live':
        showError(liveErr, undefined);
        profileId = m.profileId;
        paused = m.paused;
        pauseBtn.textContent = paused ? 'Resume' : 'Pause';
        downloads.hidden = false;
        drawDownloads(m.formats);
        liveStatus.textContent = `${m.ticks} samples · ${m.elapsed.toFixed(1)} s${m.errors ? ` · ${m.errors} errors` : ''}${paused ? ' · paused' : ''}`;
        if (!paused && m.window.ticks) {
          chart.add(m.window.at, m.window.gilPct);
          holders.textContent =
            Object.entries(m.window.holders)
              .sort((a, b) => b[1] - a[1])
              .map(([k, v]) => `${k}: ${v.toFixed(0)}%`)
              .join(' · ') || 'no thread held the GIL';
        }
        if (view) view.update(m.table);
        else {
          view = profileView(m.table);
          liveBody.replaceChildren(view.el);
        }
        return;
      case 'live-ended':
        liveStatus.textContent += ` · ended: ${m.reason}`;
        setLiveButtons(false);
        return;
      case 'error':
        if (m.topic === 'live') {
          setLiveButtons(false);
          showError(liveErr, m);
        } else showError(stacksErr, m);
        return;
    }
  };
  const sock = openSocket(onMessage, () =>
    showError(stacksErr, { message: 'the connection to spyglass web was lost', hint: 'is the server still running? reload the page' }),
  );
  const setStacks = (on: boolean) => {
    stacksOn = on;
    pauseStacks.textContent = on ? 'Pause' : 'Resume';
    sock.send({ op: 'stacks', pid, on });
  };
  const setLiveButtons = (on: boolean) => {
    liveOn = on;
    startBtn.textContent = on ? 'Stop' : 'Start live profile';
    pauseBtn.disabled = resetBtn.disabled = !on;
  };
  const startLive = () => {
    chart.clear();
    view = undefined;
    liveBody.replaceChildren(h('p', { class: 'muted' }, 'sampling...'));
    setLiveButtons(true);
    sock.send({ op: 'live-start', pid, rate: Number(rate.value), gil: gil.checked, idle: idle.checked });
  };
  const stopLive = () => {
    setLiveButtons(false);
    sock.send({ op: 'live-stop' });
  };
  setStacks(true);
  return () => sock.close();
}
