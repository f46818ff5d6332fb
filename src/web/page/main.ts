// The web page's entry point (bundled by scripts/build-web.mjs): a header with the
// three pages and a router on the URL's fragment (#/, #/process/PID, #/attach/PID, #/profiles), so
// that the token in the query stays in the address bar and a reload works.
import { attachPage } from './attach-page.js';
import { h } from './dom.js';
import { processPage } from './process-page.js';
import { profilesPage } from './profiles-page.js';
import { psPage } from './ps-page.js';
import { CSS } from './style.js';

document.head.append(h('style', {}, CSS));
const nav = h(
  'header',
  { class: 'top' },
  h('span', { class: 'brand' }, 'spyglass'),
  h('a', { href: '#/' }, 'Processes'),
  h('a', { href: '#/profiles' }, 'Profiles'),
);
const main = h('main');
document.getElementById('app')!.replaceWith(nav, main);

let leave: () => void = () => undefined;
function route(): void {
  leave();
  const hash = location.hash.replace(/^#/, '') || '/';
  const proc = /^\/process\/(\d+)$/.exec(hash);
  const inside = /^\/attach\/(\d+)$/.exec(hash);
  for (const a of nav.querySelectorAll('a'))
    a.classList.toggle('active', a.getAttribute('href') === `#${hash}` || ((!!proc || !!inside) && a.getAttribute('href') === '#/'));
  if (proc) leave = processPage(main, Number(proc[1]));
  else if (inside) leave = attachPage(main, Number(inside[1]));
  else if (hash === '/profiles') leave = profilesPage(main);
  else leave = psPage(main);
}
addEventListener('hashchange', route);
route();
