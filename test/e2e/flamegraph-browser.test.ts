// Opens record's flame graph (HTML and SVG) in Debian's headless Chromium and uses it the
// way a person would: frames drawn, hover tooltip, search with matched percent, click to
// zoom, reset. Needs /usr/bin/chromium (scripts/install-test-deps.sh installs it).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { StackProfile } from '../../src/sampler/profile.js';
import { toFlamegraphHtml, toFlamegraphSvg } from '../../src/formats/flamegraph.js';
import type { Frame, ThreadSample } from '../../src/sampler/types.js';
import { chromiumSkip, launchChromium } from '../helpers/chromium.js';

const fr = (name: string, line: number): Frame => ({ name, filename: '/app/shop/orders.py', line });
const t = (frames: Frame[]): ThreadSample => ({ threadId: 1, nativeTid: 7, name: 'MainThread', holdsGil: true, active: true, frames });

/** main → handle → (parse 30, render 10), main → idle_loop 60: 100 samples */
function profile(): StackProfile {
  const p = new StackProfile(
    { shorten: (f) => f.slice(f.lastIndexOf('/') + 1) },
    { title: 'python shop.py --port 8000', rate: 100, duration: 1 },
  );
  const add = (n: number, frames: Frame[]) => {
    for (let i = 0; i < n; i++) {
      p.tick(i);
      p.add({ pid: 1, thread: t(frames) });
    }
  };
  add(30, [fr('parse_order', 40), fr('handle', 20), fr('main', 5)]);
  add(10, [fr('render_page', 60), fr('handle', 20), fr('main', 5)]);
  add(60, [fr('idle_loop', 80), fr('main', 6)]);
  return p;
}

describe('flame graph in Chromium', { skip: chromiumSkip }, () => {
  let browser: Browser;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spyglass-fg-'));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(file: string, content: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
    const path = join(dir, file);
    writeFileSync(path, content);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${path}`);
    return { page, errors, requests };
  }

  /** width of the frame whose label starts with name */
  const frameWidth = (page: Page, name: string) =>
    page.evaluate((n) => {
      const g = [...document.querySelectorAll('g.frame:not(.faded)')].find((e) => e.querySelector('text')?.textContent?.startsWith(n));
      return g ? Number(g.querySelector('rect')!.getAttribute('width')) : -1;
    }, name);

  test('HTML: renders frames, hover tooltip, search with matched percent, click zoom and reset', async () => {
    const { page, errors, requests } = await open('flamegraph.html', toFlamegraphHtml(profile()));
    try {
      assert.equal(await page.textContent('#title'), 'python shop.py --port 8000');
      assert.match((await page.textContent('#subtitle'))!, /^100 samples/);
      const labels = await page.$$eval('g.frame text', (ts) => ts.map((x) => x.textContent));
      for (const want of ['all', 'main (orders.py:5)', 'handle (orders.py:20)', 'parse_order (orders.py:40)', 'idle_loop (orders.py:80)']) {
        assert.ok(labels.includes(want), `frame "${want}" drawn; got ${labels.join(' | ')}`);
      }
      // widths are proportional: idle_loop (60) is twice parse_order (30)
      const idle = await frameWidth(page, 'idle_loop');
      const parse = await frameWidth(page, 'parse_order');
      assert.ok(Math.abs(idle / parse - 2) < 0.05, `idle ${idle} / parse ${parse}`);

      // hover
      await page.hover('g.frame:has(text:text-is("parse_order (orders.py:40)")) rect');
      assert.equal(await page.isVisible('#tooltip'), true);
      const tip = (await page.textContent('#tooltip'))!;
      assert.match(tip, /parse_order/);
      assert.match(tip, /orders\.py:40/);
      assert.match(tip, /30 samples \(30\.00%\)/);

      // search: highlighted frames and matched percent (render_page 10 + parse_order 30)
      await page.fill('#search', 'parse_order|render_page');
      assert.equal((await page.textContent('#matched'))!.trim(), 'Matched: 40.00% (40 of 100 samples)');
      const magenta = await page.$$eval('g.frame rect[fill="rgb(230,0,230)"]', (rs) => rs.length);
      assert.equal(magenta, 2);
      await page.fill('#search', '');
      assert.equal((await page.textContent('#matched'))!.trim(), '');

      // click to zoom: handle becomes the full width, idle_loop disappears, breadcrumb shows the path
      const fullWidth = await frameWidth(page, 'all');
      await page.click('g.frame:has(text:text-is("handle (orders.py:20)")) rect');
      assert.ok(Math.abs((await frameWidth(page, 'handle')) - fullWidth) < 1, 'zoomed frame spans the width');
      assert.equal(await frameWidth(page, 'idle_loop'), -1);
      assert.equal((await page.textContent('#crumbs'))!.replace(/\s+/g, ' '), 'all › main › handle');
      const parseZoomed = await frameWidth(page, 'parse_order');
      assert.ok(Math.abs(parseZoomed / fullWidth - 0.75) < 0.01, 'parse_order is 30 of the 40 samples under handle');

      // reset restores the whole profile
      await page.click('#reset');
      assert.ok(Math.abs((await frameWidth(page, 'idle_loop')) / fullWidth - 0.6) < 0.01);
      assert.equal((await page.textContent('#crumbs'))!.trim(), 'all');
      assert.deepEqual(errors, []);
      assert.deepEqual(
        requests.filter((u) => !u.startsWith('file://')),
        [],
        'works offline: no network requests',
      );
    } finally {
      await page.close();
    }
  });

  test('native frames (record --native) are coloured apart from Python ones, the interpreter apart from other libraries, and found by search', async () => {
    const p = new StackProfile({ shorten: (f) => f.slice(f.lastIndexOf('/') + 1) }, { title: 'native', rate: 100, duration: 1 });
    const nat = (name: string, module: string): Frame => ({ kind: 'native', name, filename: '', line: 0, module, address: 0x1000n });
    for (let i = 0; i < 10; i++) {
      p.tick(i);
      p.add({
        pid: 1,
        thread: t([
          nat('clock_nanosleep', 'libc.so.6'),
          nat('time_sleep', 'libpython3.12.so.1.0'),
          fr('wait_for_order', 12),
          fr('main', 5),
        ]),
      });
    }
    const { page, errors } = await open('native.html', toFlamegraphHtml(p));
    try {
      const fill = (label: string) =>
        page.$eval(`g.frame:has(text:text-is("${label}")) rect`, (r) => r.getAttribute('fill')!.match(/\d+/g)!.map(Number));
      const [py, libc, libpython] = [
        await fill('wait_for_order (orders.py:12)'),
        await fill('clock_nanosleep (libc.so.6)'),
        await fill('time_sleep (libpython3.12.so.1.0)'),
      ];
      assert.ok(py[0] >= 205, `Python frames are warm: ${py}`);
      assert.ok(libc[2] >= 200 && libc[0] < 120, `native frames are blue: ${libc}`);
      assert.ok(libpython[1] >= 170 && libpython[0] < 120 && libpython[2] < 140, `the interpreter's frames are green: ${libpython}`);
      await page.fill('#search', 'libc.so');
      assert.equal((await page.textContent('#matched'))!.trim(), 'Matched: 100.00% (10 of 10 samples)');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  test('SVG: renders frames, tooltip, search via prompt and zoom', async () => {
    const { page, errors } = await open('flamegraph.svg', toFlamegraphSvg(profile()));
    try {
      const labels = await page.$$eval('g.frame text', (ts) => ts.map((x) => x.textContent));
      assert.ok(labels.includes('parse_order (orders.py:40)'), labels.join(' | '));
      await page.hover('g.frame:has(text:text-is("idle_loop (orders.py:80)")) rect');
      assert.equal(await page.getAttribute('#tooltip', 'visibility'), 'visible');
      assert.match((await page.textContent('#tooltip'))!, /60 samples \(60\.00%\)/);
      page.once('dialog', (d) => void d.accept('idle'));
      await page.click('#search');
      await page.waitForFunction(() => document.getElementById('matched')?.textContent !== '');
      assert.equal(await page.textContent('#matched'), 'Matched: 60.00% (60 of 100 samples)');
      await page.click('g.frame:has(text:text-is("handle (orders.py:20)")) rect');
      assert.equal(await frameWidth(page, 'idle_loop'), -1);
      await page.click('#reset');
      assert.ok((await frameWidth(page, 'idle_loop')) > 0);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
