// `spyglass web` driven in Debian's headless Chromium against real targets: the process
// list shows a started target, its page shows its thread names, a live profile shows the
// hot function in the table and the flame graph, live downloads hold it; saved profiles
// (collapsed, pprof, speedscope) render their frames, a differential view colours a frame
// that grew red; and the server's guards: no token, a wrong token, a foreign Origin (HTTP
// and WebSocket), an oversized upload, a malformed profile of each format (a message,
// and the server keeps answering). With SPYGLASS_WEB_SCREENSHOTS=DIR it also saves a
// screenshot of each page there (the README's images).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { StackProfile } from '../../src/sampler/profile.js';
import type { Frame } from '../../src/sampler/types.js';
import { toPprof } from '../../src/formats/pprof.js';
import { toSpeedscope } from '../../src/formats/speedscope.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { BUNDLE } from '../../src/web/page-html.js';
import { READY_TIMEOUT_MS, startProfileTarget } from '../helpers/profiles.js';
import { discoverPythons, type Interpreter } from '../helpers/pythons.js';
import { CLI_MAIN, runCli } from '../helpers/cli.js';
import { assertShellAppUntouched } from '../helpers/shell-app.js';
import { chromiumSkip, launchChromium } from '../helpers/chromium.js';
import { startTarget } from '../helpers/targets.js';

const TOKEN = 'test-token-0123456789abcdef';
const MAX_UPLOAD = 256 * 1024;
const SHOTS = process.env.SPYGLASS_WEB_SCREENSHOTS;
const pythons = discoverPythons();
const TORCH_PYTHON = join(PACKAGE_ROOT, '.venv-torch', 'bin', 'python');

/** The .venv-torch interpreter (scripts/install-test-deps.sh), or why the torch form's test cannot run. */
function torchPython(): Interpreter | string {
  if (!existsSync(TORCH_PYTHON)) return `${TORCH_PYTHON} is missing (scripts/install-test-deps.sh creates it)`;
  const r = spawnSync(TORCH_PYTHON, ['-c', 'import sys, torch; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8' });
  if (r.status !== 0) return `torch does not import in ${TORCH_PYTHON}: ${r.stderr.trim().split('\n').pop()}`;
  const version = r.stdout.trim();
  return { path: TORCH_PYTHON, version, minor: version.split('.').slice(0, 2).join('.'), build: 'shared', label: `${version}-venv-torch` };
}
const torchVenv = torchPython();

/** checkout.py: main → checkout → price 70, main → checkout → tax 30 (and a thread root) */
function pprofFile(): Buffer {
  const fr = (name: string, line: number): Frame => ({ name, filename: '/shop/checkout.py', line });
  const p = new StackProfile({ shorten: (f) => f.slice(f.lastIndexOf('/') + 1) }, { title: 'python checkout.py', rate: 100, duration: 1 });
  const add = (n: number, frames: Frame[]) => {
    for (let i = 0; i < n; i++) {
      p.tick(i / 100);
      p.add({ pid: 1, thread: { threadId: 1, nativeTid: 9, name: 'MainThread', holdsGil: true, active: true, frames } });
    }
  };
  add(70, [fr('price', 14), fr('checkout', 8), fr('main', 2)]);
  add(30, [fr('tax', 22), fr('checkout', 9), fr('main', 2)]);
  return toPprof(p);
}

describe('spyglass web', { skip: chromiumSkip }, () => {
  let browser: Browser;
  let server: WebServer;
  let dir: string;
  let base: string;
  before(async () => {
    // `npx tsc` alone does not bundle the page: npm run build does, and so does this
    if (!existsSync(BUNDLE)) execFileSync(process.execPath, [join(PACKAGE_ROOT, 'scripts', 'build-web.mjs')]);
    dir = mkdtempSync(join(tmpdir(), 'spyglass-web-'));
    server = await startWebServer({ host: '127.0.0.1', port: 0, token: TOKEN, maxUploadBytes: MAX_UPLOAD, profileDir: dir });
    base = `http://127.0.0.1:${server.port}`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function openPage(hash: string): Promise<{ page: Page; errors: string[]; foreign: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const errors: string[] = [];
    const foreign: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith(`ws://127.0.0.1:${server.port}`) && !r.url().startsWith('blob:'))
        foreign.push(r.url());
    });
    await page.goto(`${base}/?token=${TOKEN}#${hash}`);
    return { page, errors, foreign };
  }

  const shot = async (page: Page, name: string) => {
    if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  };

  /** fills the attach page's form `name` with `fields` (input or select names) and runs it */
  const formRunner = (page: Page) => async (name: string, fields: Record<string, string>) => {
    const form = page.locator(`form.form-${name}`);
    await page.click(`.inside-forms .tab:text-is("${name}")`);
    for (const [k, v] of Object.entries(fields)) {
      const input = form.locator(`[name="${k}"]`);
      if ((await input.evaluate((e) => e.tagName)) === 'SELECT') await input.selectOption(v);
      else await input.fill(v);
    }
    await form.locator('button[type=submit]').click();
  };

  /** the labels of the frames drawn in the flame graph under `scope` */
  const frameLabels = (page: Page, scope = '') => page.$$eval(`${scope} g.frame text`, (ts) => ts.map((t) => t.textContent ?? ''));

  for (const py of pythons) {
    test(`process list, threads and live profile (${py.label})`, async (t) => {
      const target = await startProfileTarget(py, 'profile_split.py');
      t.after(() => target.stop());
      const { page, errors, foreign } = await openPage('/');
      t.after(() => page.close());
      // the process list shows the target with its version
      const row = page.locator(`tr[data-pid="${target.pid}"]`);
      await row.waitFor({ timeout: 30000 });
      assert.match((await row.textContent())!, new RegExp(`${target.pid}${py.version.replace(/\./g, '\\.')}`));
      assert.match((await row.textContent())!, /profile_split\.py/);
      await page.fill('.filter', `${target.pid} profile_split`);
      assert.equal(await page.locator('table.processes tbody tr').count(), 1);
      if (py === pythons[0]) await shot(page, 'web-processes');

      // its page: thread names from outside
      await row.locator('a').click();
      await page.waitForSelector('.thread-name:text-is("sleeper")', { timeout: 15000 });
      const names = await page.$$eval('.thread-name', (es) => es.map((e) => e.textContent));
      assert.deepEqual([...names].sort(), ['MainThread', 'sleeper']);
      const stacks = (await page.textContent('.threads'))!;
      // the busy thread's stack, read once: under main() and <module> whatever it was in
      // (heavy, light, burn, or main's own loop between them, as CI once caught it)
      assert.match(stacks, /main \S+profile_split\.py:\d+<module> \S+profile_split\.py:\d+/);

      // a live profile: the hot function in the table and in the flame graph within seconds
      await page.click('.live-start');
      await page.waitForSelector('.profile-view g.frame text:text-matches("^heavy")', { timeout: READY_TIMEOUT_MS });
      await page.click('.tab[data-mode="table"]');
      await page.waitForSelector('table.functions td.fn:text-is("burn")', { timeout: 15000 });
      const table = await page.$$eval('table.functions tbody tr', (rs) =>
        rs.map((r) => [...r.querySelectorAll('td')].map((d) => d.textContent ?? '')),
      );
      assert.equal(table[0][4], 'burn', `sorted by own time, burn first: ${JSON.stringify(table.slice(0, 4))}`);
      assert.ok(
        table.some((r) => r[4] === 'heavy'),
        'heavy is listed',
      );
      // the sandwich of heavy: main calls it, burn is under it
      await page.click('table.functions td.fn:text-is("heavy")');
      await page.waitForSelector('.sandwich .flame');
      const sandwichLabels = await frameLabels(page, '.sandwich');
      assert.ok(
        sandwichLabels.some((l) => l.startsWith('main')) && sandwichLabels.some((l) => l.startsWith('burn')),
        sandwichLabels.join(' | '),
      );
      if (py === pythons[0]) await shot(page, 'web-live-table');
      await page.click('.tab[data-mode="flame"]');
      // the GIL chart and holders line come with each second's update
      await page.waitForSelector('.holders:has-text("MainThread")', { timeout: 15000 });
      if (py === pythons[0]) await shot(page, 'web-live-flame');

      // a download of the live profile in collapsed form holds heavy under main
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('.downloads button[data-format="collapsed"]')]);
      const saved = join(dir, `live-${target.pid}.txt`);
      await dl.saveAs(saved);
      const collapsed = (await import('node:fs')).readFileSync(saved, 'utf8');
      assert.match(
        collapsed,
        /^thread \d+ "MainThread";.*main \(profile_split\.py:\d+\);heavy \(profile_split\.py:\d+\);burn \(profile_split\.py:\d+\) \d+$/m,
      );
      assert.doesNotMatch(collapsed, /sleeper/, 'the idle thread is left out');

      // pause stops counting
      await page.click('.live-pause');
      await page.waitForSelector('.live-status:has-text("paused")', { timeout: 5000 });
      const pausedAt = (await page.textContent('.live-status'))!.match(/^(\d+) samples/)![1];
      await page.waitForTimeout(1500);
      assert.equal((await page.textContent('.live-status'))!.match(/^(\d+) samples/)![1], pausedAt);
      await page.click('.live-pause');
      await page.waitForFunction(
        (n) => Number(/^(\d+) samples/.exec(document.querySelector('.live-status')?.textContent ?? '')?.[1]) > n,
        Number(pausedAt),
        { timeout: 10000 },
      );
      assert.deepEqual(errors, []);
      assert.deepEqual(foreign, [], 'nothing is fetched from elsewhere');

      // leaving the page stops the sampling: the live profile (still listed) stops growing
      const auth = { 'x-spyglass-token': TOKEN };
      const listed = (await (await fetch(`${base}/api/profiles`, { headers: auth })).json()) as {
        profiles: Array<{ id: string; name: string }>;
      };
      const live = listed.profiles.find((p) => p.name.startsWith(`live ${target.pid} `))!;
      const ticks = async () =>
        Number(
          /^(\d+) samples/.exec(
            ((await (await fetch(`${base}/api/profiles/${live.id}`, { headers: auth })).json()) as { table: { subtitle: string } }).table
              .subtitle,
          )![1],
        );
      await page.close();
      await new Promise((r) => setTimeout(r, 500));
      const atClose = await ticks();
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await ticks(), atClose, 'no samples after the page closed');
    });
  }

  /** what the page's terminal shows, its rows joined by newlines */
  const terminalText = (page: Page) =>
    page.$eval('.xterm-rows', (e) =>
      [...e.children]
        .map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd())
        .join('\n')
        .trimEnd(),
    );
  const waitForTerminal = async (page: Page, re: RegExp, timeoutMs = 20000): Promise<string> => {
    // the terminal is made by the page's script after navigation: $eval does not wait for it
    await page.waitForSelector('.xterm-rows', { timeout: timeoutMs });
    for (const deadline = Date.now() + timeoutMs; ; await page.waitForTimeout(100)) {
      const text = await terminalText(page);
      if (re.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`the terminal never showed ${re}:\n${text}`);
    }
  };

  for (const py of pythons) {
    test(`attach page: the shell in a terminal, console, watch, and leaving the page removes the hooks (${py.label})`, async (t) => {
      // not our child: attaching ptraces it, and Node's own waitpid would take the ptrace stops
      const target = await startTarget(py, 'shell_app.py', [], { notChild: true });
      t.after(() => target.stop());
      const { page, errors } = await openPage(`/process/${target.pid}`);
      t.after(() => page.close());
      await page.click('a.attach');
      // rows are read with their trailing blanks cut: a prompt ends in '>'
      const prompt = `spyglass ${target.pid}>`;
      await waitForTerminal(
        page,
        new RegExp(`attached to process ${target.pid} \\(Python ${py.version.replace(/\./g, '\\.')}\\)[\\s\\S]*${prompt}$`),
      );
      // a console statement returns its value
      await page.keyboard.type('console');
      await page.keyboard.press('Enter');
      await waitForTerminal(page, />>>$/);
      await page.keyboard.type('6 * 7');
      await page.keyboard.press('Enter');
      await waitForTerminal(page, /^>>> 6 \* 7\n42\n>>>$/m);
      await page.keyboard.press('Control+D');
      await waitForTerminal(page, new RegExp(`${prompt}$`));
      // watch streams the calls' arguments as they come
      await page.keyboard.type('watch __main__ handle -n 100000');
      await page.keyboard.press('Enter');
      // each call: its header, then the argument n as a row of the args tuple
      await waitForTerminal(page, /__main__\.handle {2}cost=[\d.]+ms {2}returned {2}thread=caller\n {2}EXPR +args\n {2}VALUE +\(\n +\d+,/);
      if (py === pythons[0]) await shot(page, 'web-attach');
      // leaving the page while the watch runs: the shell ends and the session detaches
      await page.goto(`${base}/?token=${TOKEN}#/`);
      await page.waitForSelector('table.processes');
      await assertShellAppUntouched(target);
      assert.deepEqual(errors, []);
    });
  }

  for (const py of pythons) {
    test(`attach page forms: watch rows with value trees, a trace call tree, tt records, and leaving the page restores __code__ (${py.label})`, async (t) => {
      const target = await startTarget(py, 'shell_app.py', [], { notChild: true });
      t.after(() => target.stop());
      const { page, errors } = await openPage(`/attach/${target.pid}`);
      t.after(() => page.close());
      const runForm = formRunner(page);
      // watch: the next calls' arguments as rows; the args tuple opens onto handle's n
      await runForm('watch', { method: 'handle', limit: '2' });
      const call = page.locator('section.cmd-watch tr.call').first();
      await call.waitFor({ timeout: 30000 });
      assert.match((await call.textContent())!, /__main__\.handle.*caller/);
      const args = call.locator('details.v-node').first();
      assert.match((await args.locator('summary').textContent())!, /^args: tuple \[1\] \(\d+,\)$/);
      await args.locator('summary').click();
      const n = (await args.locator('.v-children > .v-leaf').first().textContent())!;
      assert.match(n, /^0: int \d+$/);
      await page.locator('section.cmd-watch .cmd-status:text-is("ended")').waitFor({ timeout: 20000 });
      // trace: the call tree of one call, with handle's known child greet under it
      await runForm('trace', { method: 'handle', interval: '0', limit: '1' });
      const tree = page.locator('section.cmd-trace ul.trace-tree').first();
      await tree.waitFor({ timeout: 30000 });
      const names = await tree.locator('.tn-name').allTextContents();
      assert.equal(names[0], 'handle');
      assert.ok(
        names.some((x) => /greet$/.test(x)),
        names.join(', '),
      );
      // tt: two records as rows; "show" opens one with handle's n as a value tree
      await runForm('tt', { mode: 'record (-t)', method: 'handle', limit: '2' });
      await page.locator('section.cmd-tt tr.tt-record').nth(1).waitFor({ timeout: 30000 });
      await page.locator('section.cmd-tt tr.tt-record button').first().click();
      const detail = page.locator('.tt-detail').first();
      await detail.waitFor({ timeout: 20000 });
      assert.match((await detail.locator('.v-leaf').first().textContent())!, /^n: int \d+$/);
      if (py === pythons[0]) await shot(page, 'web-attach-forms');
      // a watch still running when the page is left: its hook goes with the page
      await runForm('watch', { method: 'handle', limit: '100000' });
      await page.locator('section.cmd-watch').first().locator('tr.call').nth(2).waitFor({ timeout: 30000 });
      await page.goto(`${base}/?token=${TOKEN}#/`);
      await page.waitForSelector('table.processes');
      await assertShellAppUntouched(target);
      assert.deepEqual(errors, []);
    });
  }

  for (const py of pythons) {
    test(`attach page forms: monitor cycle rows, getglobal and vmtool value trees, a forceGc result (${py.label})`, async (t) => {
      const target = await startTarget(py, 'shell_app.py', [], { notChild: true });
      t.after(() => target.stop());
      const { page, errors } = await openPage(`/attach/${target.pid}`);
      t.after(() => page.close());
      const runForm = formRunner(page);
      // monitor: one 1-second cycle of handle, which the caller thread runs every 20 ms
      await runForm('monitor', { method: 'handle', cycle: '1', cycles: '1' });
      const cycle = page.locator('section.cmd-monitor tr.cycle').first();
      await cycle.waitFor({ timeout: 30000 });
      const cells = await cycle.locator('td').allTextContents();
      assert.match(cells[1], /^__main__\.handle$/);
      assert.ok(Number(cells[2]) >= 1, `calls in a cycle: ${cells.join(' | ')}`);
      assert.equal(Number(cells[2]), Number(cells[3]) + Number(cells[4]), 'calls = success + fail');
      // getglobal: a class attribute's known value
      await runForm('getglobal', { module: '__main__', cls: 'Greeter', field: 'greeting' });
      const value = page.locator('section.cmd-getglobal .getglobal-value .v-leaf').first();
      await value.waitFor({ timeout: 30000 });
      assert.equal(await value.textContent(), "__main__.Greeter.greeting: str 'hello'");
      // getglobal: a dict global as a tree that opens onto its items
      await runForm('getglobal', { module: '__main__', cls: '', field: 'ORIGINAL_CODE' });
      const dict = page.locator('section.cmd-getglobal').first().locator('details.v-node').first();
      await dict.waitFor({ timeout: 30000 });
      assert.match((await dict.locator('summary').textContent())!, /^__main__\.ORIGINAL_CODE: dict \[3\] /);
      await dict.locator('summary').click();
      // the children are built by the toggle event, which the browser fires after the click returns
      await dict.locator('.v-children > *').nth(2).waitFor({ timeout: 10000 });
      assert.equal(await dict.locator('.v-children > *').count(), 3);
      // vmtool getInstances: the target's named threads among the Thread instances
      await runForm('vmtool', { action: 'getInstances', module: 'threading', cls: 'Thread', limit: '-1' });
      const total = page.locator('section.cmd-vmtool .vm-total').first();
      await total.waitFor({ timeout: 30000 });
      assert.match((await total.textContent())!, /^\d+ instances? of threading\.Thread/);
      const reprs = await page.locator('section.cmd-vmtool').first().locator('.v-repr').allTextContents();
      for (const name of ['parked-1', 'parked-2', 'caller'])
        assert.ok(
          reprs.some((r) => r.includes(name)),
          `${name} not among ${reprs.join(', ')}`,
        );
      // vmtool forceGc: one row per generation
      await runForm('vmtool', { action: 'forceGc' });
      const gc = page.locator('section.cmd-vmtool').first();
      await gc.locator('.gc-total').waitFor({ timeout: 30000 });
      assert.match((await gc.locator('.gc-total').textContent())!, /^full collection: \d+ collected in [\d.]+ ms/);
      assert.deepEqual(await gc.locator('tr.gc-gen td:first-child').allTextContents(), ['0', '1', '2']);
      if (py === pythons[0]) await shot(page, 'web-attach-inspect');
      await page.goto(`${base}/?token=${TOKEN}#/`);
      await page.waitForSelector('table.processes');
      await assertShellAppUntouched(target);
      assert.deepEqual(errors, []);
    });
  }

  for (const py of pythons) {
    test(`attach page forms: gilstat's table of threads refreshes and the sorter's long holds come with its stack (${py.label})`, async (t) => {
      // res_gil.py: "sorter" holds the GIL ~50 ms in one sort every ~200 ms, "pyworker" runs Python
      const target = await startTarget(py, 'res_gil.py', [], { notChild: true });
      t.after(() => target.stop());
      const { page, errors } = await openPage(`/attach/${target.pid}`);
      t.after(() => page.close());
      await formRunner(page)('gilstat', { action: 'on', take: '10', hold: '10', interval: '1', threads: '20' });
      const run = page.locator('section.cmd-gilstat').first();
      // a second table replaces the first in place: the rows refresh, they do not pile up
      await run.locator('table[data-tables="2"]').waitFor({ timeout: 30000 });
      const names = await run.locator('tr.gil-thread td:nth-child(2)').allTextContents();
      assert.equal(new Set(names).size, names.length, `one row per thread: ${names.join(', ')}`);
      for (const name of ['sorter', 'pyworker']) assert.ok(names.includes(name), `${name} not among ${names.join(', ')}`);
      const hold = run.locator('tr.gil-report.gil-hold', { has: page.locator('td:nth-child(2):text-is("sorter")') }).first();
      await hold.waitFor({ timeout: 30000 });
      const cells = await hold.locator('td').allTextContents();
      assert.equal(cells[2], 'hold_gil');
      assert.ok(Number(cells[3]) > 10, `a hold over the 10 ms threshold: ${cells.join(' | ')}`);
      assert.equal(cells[4], '10.000');
      // the stack of a sort: sort_once in sorter, in res_gil.py (a sample may miss the frames: then any report says why)
      const withStack = run.locator('tr.gil-report.gil-hold', { has: page.locator('summary:text-is("sort_once")') }).first();
      await withStack.waitFor({ timeout: 30000 });
      await withStack.locator('summary').click();
      const frames = await withStack.locator('ol.gil-stack li').allTextContents();
      assert.match(frames[0], /^sort_once {2}\S*res_gil\.py:\d+$/);
      assert.match(frames[1], /^sorter {2}\S*res_gil\.py:\d+$/);
      if (py === pythons[0]) await shot(page, 'web-attach-gilstat');
      await run.locator('button:text-is("Stop")').click();
      await run.locator('.cmd-status:text-is("ended")').waitFor({ timeout: 20000 });
      assert.deepEqual(errors, []);
    });
  }

  test('attach page forms: torch profile of one forward shows its result and downloads the Chrome trace the server wrote', {
    skip: typeof torchVenv === 'string' ? torchVenv : false,
  }, async (t) => {
    const target = await startTarget(torchVenv as Interpreter, 'torch_app.py', [], { notChild: true, readyTimeoutMs: 90000 });
    t.after(() => target.stop());
    const { page, errors } = await openPage(`/attach/${target.pid}`);
    t.after(() => page.close());
    const file = join(dir, 'forward.json');
    await formRunner(page)('torch', { action: 'profile', module: '__main__', cls: 'Net', method: 'forward', file });
    const result = page.locator('section.cmd-torch .torch-file').first();
    await result.waitFor({ timeout: 60000 });
    assert.match(
      (await result.textContent())!,
      /Chrome trace of one call of __main__\.Net\.forward \([\d.]+ ms, thread driver\), torch 2\./,
    );
    assert.equal(await result.locator('.torch-path').textContent(), file);
    // the download is the file the server wrote: one forward, its two Linear layers and the relu
    const [saved] = await Promise.all([
      page.waitForEvent('download', { timeout: 20000 }),
      result.locator('button:text-is("download forward.json")').click(),
    ]);
    assert.equal(saved.suggestedFilename(), 'forward.json');
    const bytes = readFileSync((await saved.path())!);
    assert.deepEqual(bytes, readFileSync(file));
    const events = (JSON.parse(bytes.toString('utf8')) as { traceEvents: Array<{ name: string; ph: string }> }).traceEvents;
    const ops = events.filter((e) => e.ph === 'X').map((e) => e.name);
    assert.equal(ops.filter((n) => n === 'aten::linear').length, 2, ops.slice(0, 30).join(', '));
    assert.ok(ops.includes('aten::relu'));
    // only what a command wrote is served, and only by its id
    const other = await fetch(`${base}/api/files/0123456789abcdef`, { headers: { 'x-spyglass-token': TOKEN } });
    assert.equal(other.status, 404);
    if (SHOTS) await shot(page, 'web-attach-torch');
    await page.goto(`${base}/?token=${TOKEN}#/`);
    await page.waitForSelector('table.processes');
    assert.deepEqual(errors, []);
  });

  test('profiles: uploaded collapsed, pprof and speedscope files render their frames; a diff colours growth red', async (t) => {
    const { page, errors } = await openPage('/profiles');
    t.after(() => page.close());
    const upload = async (name: string, content: Buffer | string) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      await page.setInputFiles('input.upload', path);
    };
    await upload(
      'before.collapsed.txt',
      'main (app.py:1);handle (app.py:5);parse (app.py:9) 60\nmain (app.py:1);handle (app.py:5);render (app.py:20) 40\n',
    );
    await page.waitForSelector('.profile-view g.frame text:text-matches("^parse")');
    const labels = await frameLabels(page, '.profile-view');
    for (const want of ['main (app.py:1)', 'handle (app.py:5)', 'parse (app.py:9)', 'render (app.py:20)'])
      assert.ok(labels.includes(want), `${want} in ${labels.join(' | ')}`);

    await upload(
      'after.collapsed.txt',
      'main (app.py:1);handle (app.py:5);parse (app.py:9) 60\nmain (app.py:1);handle (app.py:5);render (app.py:20) 140\n',
    );
    await page.waitForSelector('.profile-list a:text-is("after.collapsed.txt")');
    await page.selectOption('.diff-before', { label: 'before.collapsed.txt' });
    await page.selectOption('.diff-after', { label: 'after.collapsed.txt' });
    await page.click('.diff-go');
    await page.waitForSelector('.diff-view g.frame text:text-matches("^render")');
    const fill = (name: string) =>
      page.$eval(`.diff-view g.frame:has(text:text-matches("^${name}")) rect`, (r) => r.getAttribute('fill')!.match(/\d+/g)!.map(Number));
    // render: 40% → 70% of the samples: red; parse 60% → 30%: blue
    const [r, g, b] = await fill('render');
    assert.ok(r === 255 && g < 200 && b < 200, `render is red: ${[r, g, b]}`);
    const [r2, , b2] = await fill('parse');
    assert.ok(b2 === 255 && r2 < 200, `parse is blue: ${[r2, b2]}`);
    await shot(page, 'web-diff');

    await upload('checkout.pb.gz', pprofFile());
    await page.waitForSelector('.profile-view g.frame text:text-matches("^price")');
    const pprofLabels = await frameLabels(page, '.profile-view');
    for (const want of ['main (checkout.py:2)', 'checkout (checkout.py:8)', 'price (checkout.py:14)', 'tax (checkout.py:22)'])
      assert.ok(pprofLabels.includes(want), `${want} in ${pprofLabels.join(' | ')}`);
    // the table of the pprof profile in seconds (100 Hz): price 0.70 s own
    await page.click('.tab[data-mode="table"]');
    const price = await page.$eval('table.functions tbody tr:first-child', (tr) => tr.textContent);
    assert.match(price!, /^0\.70 s70\.0%0\.70 s70\.0%pricecheckout\.py:14$/);
    await page.click('.tab[data-mode="icicle"]');
    await shot(page, 'web-profile-pprof');

    const p = new StackProfile({}, { rate: 100 });
    p.tick(0);
    p.add({
      pid: 1,
      thread: { threadId: 1, holdsGil: true, active: true, frames: [{ name: 'only_in_speedscope', filename: '/x/s.py', line: 3 }] },
    });
    await upload('one.speedscope.json', JSON.stringify(toSpeedscope(p)));
    await page.click('.tab[data-mode="flame"]');
    await page.waitForSelector('.profile-view g.frame text:text-matches("^only_in_speedscope")');

    // a malformed file: a message on the page, and the page still works
    await upload(
      'broken.speedscope.json',
      '{"shared": {"frames": []}, "profiles": [{"type": "sampled", "samples": [[4]], "weights": [1]}]}',
    );
    await page.waitForSelector('.error:not([hidden])');
    assert.match((await page.textContent('.error'))!, /broken\.speedscope\.json: not a speedscope profile: frame index 4 out of range/);
    await page.click('.profile-list a:text-is("checkout.pb.gz")');
    await page.waitForSelector('.profile-view g.frame text:text-matches("^tax")');
    assert.deepEqual(errors, []);
  });

  describe('guards', () => {
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });
    test('no token, a wrong token: 401 on the page and the API', async () => {
      for (const path of ['/', '/api/ps', '/api/profiles']) {
        assert.equal((await get(path)).status, 401, path);
        assert.equal((await get(`${path}?token=${TOKEN}x`)).status, 401, path);
        assert.equal((await get(path, { 'x-spyglass-token': TOKEN.slice(0, -1) })).status, 401, path);
      }
      const ok = await get(`/?token=${TOKEN}`);
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get('content-security-policy')!, /default-src 'none'; script-src 'nonce-/);
      assert.equal(ok.headers.get('set-cookie'), null, 'no cookie');
      assert.equal((await get('/api/profiles', { 'x-spyglass-token': TOKEN })).status, 200);
    });
    test('a foreign Origin or Host is refused even with the token', async () => {
      const r = await get('/api/ps', { 'x-spyglass-token': TOKEN, origin: 'http://evil.example' });
      assert.equal(r.status, 403);
      assert.match(await r.text(), /evil\.example.*not allowed/);
      const post = await fetch(`${base}/api/profiles`, {
        method: 'POST',
        body: 'a;b 1\n',
        headers: { 'x-spyglass-token': TOKEN, origin: 'http://127.0.0.1:1' },
      });
      assert.equal(post.status, 403);
      // a DNS-rebinding page reaches 127.0.0.1 under its own name
      const { request } = await import('node:http');
      const status = await new Promise<number>((res, rej) =>
        request(`${base}/api/ps`, { headers: { host: 'rebind.example:80', 'x-spyglass-token': TOKEN } }, (m) => {
          m.resume();
          res(m.statusCode!);
        })
          .on('error', rej)
          .end(),
      );
      assert.equal(status, 403);
    });
    const wsOutcome = (url: string, headers: Record<string, string> = {}) =>
      new Promise<string>((res) => {
        const ws = new WebSocket(url, { headers });
        ws.on('open', () => {
          ws.close();
          res('open');
        });
        ws.on('unexpected-response', (_req, r) => res(String(r.statusCode)));
        ws.on('error', (e) => res(`error ${e.message}`));
      });
    test('WebSocket: no token, a wrong token, a foreign Origin are refused', async () => {
      const ws = `ws://127.0.0.1:${server.port}/ws`;
      assert.equal(await wsOutcome(ws), '401');
      assert.equal(await wsOutcome(`${ws}?token=nope`), '401');
      assert.equal(await wsOutcome(`${ws}?token=${TOKEN}`, { origin: 'http://evil.example' }), '403');
      assert.equal(await wsOutcome(`${ws}?token=${TOKEN}`, { origin: base }), 'open');
    });
    test('an oversized upload is refused and the server keeps answering', async () => {
      const big = Buffer.alloc(MAX_UPLOAD + 1, 'a');
      const r = await fetch(`${base}/api/profiles?name=big.txt`, {
        method: 'POST',
        body: new Uint8Array(big),
        headers: { 'x-spyglass-token': TOKEN },
      });
      assert.equal(r.status, 413);
      assert.match(((await r.json()) as { error: string }).error, new RegExp(`more than the ${MAX_UPLOAD} bytes allowed`));
      assert.equal((await get('/api/profiles', { 'x-spyglass-token': TOKEN })).status, 200);
    });
    test('a malformed profile of each format: 400 with a message, and the server keeps answering', async () => {
      const cases: Array<[string, Buffer | string, RegExp]> = [
        ['bad.collapsed.txt', 'main;handle\n', /line 1 is not "frame;frame;\.\.\. COUNT"/],
        ['bad.speedscope.json', '{"shared": {"frames": [', /not valid JSON/],
        ['bad.pb.gz', Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('garbage')]), /gzip data cannot be unpacked/],
        ['bad.pb', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), /not a pprof profile/],
      ];
      for (const [name, body, message] of cases) {
        const r = await fetch(`${base}/api/profiles?name=${name}`, {
          method: 'POST',
          body: typeof body === 'string' ? body : new Uint8Array(body),
          headers: { 'x-spyglass-token': TOKEN },
        });
        assert.equal(r.status, 400, name);
        const j = (await r.json()) as { error: string; hint: string };
        assert.match(j.error, message, name);
        assert.match(j.hint, /collapsed.*speedscope.*pprof/);
      }
      assert.equal((await get('/api/ps', { 'x-spyglass-token': TOKEN })).status, 200);
    });
    test('a WebSocket request for a process that does not exist: one error message, the connection stays', async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${TOKEN}`);
      await new Promise((r) => ws.once('open', r));
      const next = () =>
        new Promise<{ type: string; message: string; topic: string }>((r) => ws.once('message', (d) => r(JSON.parse(String(d)))));
      let m = next();
      ws.send(JSON.stringify({ op: 'live-start', pid: 999999999 }));
      assert.deepEqual(await m.then((x) => [x.type, x.topic, /process 999999999 does not exist/.test(x.message)]), ['error', 'live', true]);
      m = next();
      ws.send('not json');
      assert.equal((await m).message, 'a message is not JSON');
      ws.close();
    });
  });
});

describe('spyglass web, the command', () => {
  test('prints one URL with a token, warns off loopback, lists what record writes into its directory, Ctrl-C stops it', async (t) => {
    if (!existsSync(BUNDLE)) execFileSync(process.execPath, [join(PACKAGE_ROOT, 'scripts', 'build-web.mjs')]);
    const cwd = mkdtempSync(join(tmpdir(), 'spyglass-web-cli-'));
    t.after(() => rmSync(cwd, { recursive: true, force: true }));
    const proc = spawn(process.execPath, [CLI_MAIN, 'web', '--port', '0', '--host', '0.0.0.0'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    });
    let out = '';
    let err = '';
    proc.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out} ${err}`)), 20000);
      proc.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /^spyglass web: open (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32})$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    assert.match(err, /^spyglass: warning: listening on 0\.0\.0\.0: anyone who can reach this address and has the token/m);
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="app"><\/div>/);
    const origin = new URL(url);
    assert.equal((await fetch(`${origin.origin}/`)).status, 401);
    // a profile record writes into the server's directory is listed and opens
    writeFileSync(join(cwd, 'profile.collapsed.txt'), 'main (app.py:1);work (app.py:4) 5\n');
    const auth = { 'x-spyglass-token': origin.searchParams.get('token')! };
    const listed = (await (await fetch(`${origin.origin}/api/profiles`, { headers: auth })).json()) as {
      profiles: Array<{ id: string; name: string; source: string }>;
    };
    const rec = listed.profiles.find((p) => p.name === 'profile.collapsed.txt');
    assert.equal(rec?.source, 'recorded');
    const table = (await (await fetch(`${origin.origin}/api/profiles/${rec!.id}`, { headers: auth })).json()) as {
      table: { frames: string[][] };
    };
    assert.deepEqual(table.table.frames, [
      ['main', 'app.py:1', 'python'],
      ['work', 'app.py:4', 'python'],
    ]);
    proc.kill('SIGINT');
    assert.equal(await exited, 0);
  });

  test('a bad port is a usage error', async () => {
    const r = await runCli(['web', '--port', '70000']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not a port number: '70000'/);
  });
});
