// A process from inside: forms for watch, trace, tt and mem whose results are drawn as
// rows and trees (inside-forms.ts), and the shell of `spyglass PID` in a terminal
// (xterm.js), run by the server and carried over the WebSocket. Opening this page
// attaches (injects the agent); leaving it (another page, a closed tab) stops the
// commands, ends the shell and detaches, which removes every hook they installed.
import { Terminal } from '@xterm/xterm';
import xtermCss from '@xterm/xterm/css/xterm.css';
import { openSocket } from './api.js';
import { h } from './dom.js';
import { insideForms } from './inside-forms.js';

let cssAdded = false;

export function attachPage(root: HTMLElement, pid: number): () => void {
  if (!cssAdded) {
    document.head.append(h('style', {}, xtermCss));
    cssAdded = true;
  }
  const status = h('span', { class: 'muted term-status' }, 'attaching...');
  const box = h('div', { class: 'terminal' });
  const formsBox = h('div');
  const detachBtn = h('button', { type: 'button', class: 'detach', onclick: () => sock.send({ op: 'term-close' }) }, 'Detach');
  root.replaceChildren(
    h('h2', {}, `Process ${pid}, from inside`),
    h(
      'p',
      { class: 'muted' },
      'Commands run inside the process: the forms below, and the spyglass shell in the terminal (`help` lists its commands). Leaving this page stops them, detaches and removes every hook they installed.',
    ),
    h('div', { class: 'controls' }, detachBtn, h('a', { href: `#/process/${pid}` }, 'back to the process'), status),
    formsBox,
    h('h3', {}, 'Shell'),
    box,
  );
  const term = new Terminal({
    convertEol: true,
    cols: 120,
    rows: 32,
    fontSize: 13,
    fontFamily: 'ui-monospace, Menlo, Consolas, monospace',
  });
  term.open(box);
  const sock = openSocket(
    (m) => {
      if (m.type.startsWith('cmd-')) forms.onMessage(m);
      else if (m.type === 'error' && m.topic === 'cmd') forms.onMessage(m);
      else if (m.type === 'term-output') {
        if (status.textContent === 'attaching...') status.textContent = 'attached';
        term.write(m.data);
      } else if (m.type === 'term-closed') {
        status.textContent = `detached: ${m.reason}`;
        detachBtn.disabled = true;
      } else if (m.type === 'error' && m.topic === 'term') {
        status.textContent = `${m.message}${m.hint ? ` (${m.hint})` : ''}`;
        status.classList.add('error');
      }
    },
    () => (status.textContent = 'the connection to spyglass web was lost'),
  );
  const forms = insideForms(pid, sock);
  formsBox.append(forms.element);
  term.onData((data) => sock.send({ op: 'term-input', data }));
  term.onResize(({ cols, rows }) => sock.send({ op: 'term-resize', cols, rows }));
  sock.send({ op: 'term-open', pid, cols: term.cols, rows: term.rows });
  term.focus();
  return () => {
    sock.send({ op: 'term-close' });
    sock.close();
    term.dispose();
  };
}
