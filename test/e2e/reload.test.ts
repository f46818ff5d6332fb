// reload on every interpreter, against test/targets/reload_host.py importing a copy of
// reload_mod.py that the test rewrites: references taken before the reload (a `from`
// import, bound methods, a decorated function) run the new code; methods, class and
// static methods, async def, private names, defaults evaluated again; -v; --undo; a
// watch hook kept across a reload; and the refusals (missing method, syntax error, a
// file that no longer defines it, a built-in, new free variables) leaving the code as it was.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { RenderedNode } from '../../src/channel/protocol.js';
import { runLine } from '../../src/shell/dispatch.js';
import { startAgentTarget } from '../helpers/agent-target.js';
import { commandContext, type CapturedOutput } from '../helpers/command-context.js';
import { discoverPythons } from '../helpers/pythons.js';
import { TARGETS_DIR } from '../helpers/targets.js';

type Rec = Record<string, any>;

describe('reload', { concurrency: true }, () => {
  for (const py of discoverPythons()) {
    test(py.label, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'spyglass-reload-'));
      const file = join(dir, 'reload_mod.py');
      copyFileSync(join(TARGETS_DIR, 'reload_mod.py'), file);
      const target = await startAgentTarget(py, { script: join(TARGETS_DIR, 'reload_host.py'), args: [dir] });
      const client = await target.attach();
      const value = async (expr: string) => ((await client.call('eval', { expr })) as RenderedNode).repr;
      const typed = async (
        line: string,
        stopWhen?: (r: Rec) => boolean,
        onStart?: (out: CapturedOutput) => void,
      ): Promise<CapturedOutput> => {
        const { ctx, out, abort } = commandContext(target.pid, { agent: client });
        onStart?.(out);
        if (stopWhen)
          out.waitForRecord(stopWhen).then(
            () => abort.abort(),
            () => undefined,
          );
        await runLine(ctx, line);
        return out;
      };
      const rewrite = (from: string, to: string) => {
        const text = readFileSync(file, 'utf8');
        assert.ok(text.includes(from), `reload_mod.py has no ${from}`);
        writeFileSync(file, text.replace(from, to));
      };
      const lineOf = (text: string) => readFileSync(file, 'utf8').split('\n').indexOf(text) + 1;
      try {
        assert.equal(await value('held_price(3)'), '6');
        // the file as loaded: nothing to reload, an error in the reference's words
        await assert.rejects(
          typed('reload reload_mod price'),
          /Method source has not changed: reload_mod\.price is as .*reload_mod\.py:\d+-\d+ defines it, nothing replaced$/,
        );

        // a new body: the `from` import taken before the reload runs it; shown as the
        // reference shows it (the located file and the extracted source)
        rewrite('return x * RATE\n', 'return x * RATE + 100\n');
        let out = await typed('reload reload_mod price -v');
        const a = out.records[0] as Rec;
        assert.deepEqual(
          [a.changed, a.first_line, a.last_line, a.file],
          [true, lineOf('def price(x):'), lineOf('def price(x):') + 1, file],
        );
        assert.match(out.lines[0], /^Reload is done successfully: reloaded reload_mod\.price from /);
        assert.deepEqual(out.lines.slice(1), [
          `Located file path: ${file}`,
          'Extracted method source:',
          '    def price(x):',
          '        return x * RATE + 100',
        ]);
        assert.equal(await value('held_price(3)'), '106');
        assert.equal(await value('reload_mod.price(3)'), '106');
        // --undo: the code before, then nothing left to undo
        out = await typed('reload --undo reload_mod price');
        assert.equal(out.records[0].undone, true);
        assert.match(out.lines[0], /^restored reload_mod\.price as it was before its reload at /);
        assert.equal(await value('held_price(3)'), '6');
        await assert.rejects(typed('reload --undo reload_mod price'), /reload_mod\.price has not been reloaded/);
        assert.equal(await typed('reload reload_mod price').then((o) => o.records[0].changed), true);
        assert.equal(await value('held_price(3)'), '106');

        // a method (bound before), a private name, a classmethod, a staticmethod, an async def
        rewrite('return sum(items)', 'return sum(items) * 10');
        await typed('reload reload_mod Shop total');
        assert.equal(await value('held_total([1, 2])'), '30');
        rewrite('return self.__secret', 'return self.__secret + 1');
        await typed('reload reload_mod Shop secret');
        assert.equal(await value('held_secret()'), '6');
        rewrite("return 'shop'", "return 'shop2'");
        await typed('reload reload_mod Shop kind');
        assert.equal(await value('held_kind()'), "'shop2'");
        rewrite('return x // 10', 'return x // 5');
        await typed('reload reload_mod Shop tax');
        assert.equal(await value('held_tax(50)'), '10');
        rewrite('return x + 1', 'return x + 2');
        await typed('reload reload_mod Shop fetch');
        assert.equal(await value('fetch(1)'), '3');
        // decorated: the function the decorator wrapped is reloaded, the decorator stays
        rewrite("return 'v1:%s' % x", "return 'v2:%s' % x");
        await typed('reload reload_mod label');
        assert.equal(await value('held_label(1)'), "('tag', 'v2:1')");
        // defaults are evaluated again, in the module
        rewrite('def scaled(x, factor=1):', 'def scaled(x, factor=RATE * 5):');
        await typed('reload reload_mod scaled');
        assert.equal(await value('held_scaled(2)'), '20');

        // a watched function stays watched across a reload, and its calls run the new code
        let watchOut: CapturedOutput | undefined;
        const watching = typed(
          'watch reload_mod price --expr return_obj,args -n 100000',
          (r) => r.event === 'call' && Number((r as Rec).values[0].value.repr) >= 1000,
          (o) => {
            watchOut = o;
          },
        );
        // a call watched before the reload, however loaded the machine
        await watchOut?.waitForRecord((r) => r.event === 'call', 15000);
        rewrite('return x * RATE + 100\n', 'return x * RATE + 1000\n');
        out = await typed('reload reload_mod price');
        assert.equal(out.records[0].hooked, true);
        assert.match(out.lines[0], /the hooks on it stay/);
        const watched = await watching;
        const calls = watched.records.filter((r) => r.event === 'call') as Rec[];
        const last = calls.at(-1)!;
        const n = Number(last.values[1].value.children[0].value.repr);
        assert.equal(Number(last.values[0].value.repr), n * 2 + 1000);
        assert.ok(
          calls.some((c) => Number(c.values[0].value.repr) < 1000),
          'no call was watched before the reload',
        );
        // the watch ended: the function runs the reloaded code itself, no wrapper
        assert.equal(await value('reload_mod.price.__code__.co_filename'), `'${file}'`);
        assert.equal(await value('held_price(1)'), '1002');
        // ... and --undo goes back one reload, the watch having come and gone
        await typed('reload --undo reload_mod price');
        assert.equal(await value('held_price(1)'), '102');

        // refused, the code left as it was: a missing method, a syntax error (shown),
        // a file that no longer defines it, a built-in, new free variables
        await assert.rejects(
          typed('reload reload_mod nosuch'),
          /Cannot locate method reload_mod\.nosuch: module reload_mod has no function nosuch/,
        );
        await assert.rejects(
          typed('reload reload_mod Shop nosuch'),
          /Cannot locate method reload_mod\.Shop\.nosuch: class reload_mod\.Shop has no method nosuch/,
        );
        rewrite('return x * RATE + 1000\n', 'return x * (RATE +\n');
        await assert.rejects(
          typed('reload reload_mod price'),
          new RegExp(`the new source does not compile: .* at ${file.replace(/[.]/g, '\\.')}:\\d+`),
        );
        assert.equal(await value('held_price(1)'), '102');
        rewrite('def price(x):\n    return x * (RATE +\n', 'def cost(x):\n    return x\n');
        await assert.rejects(typed('reload reload_mod price'), /reload_mod\.py no longer defines price/);
        await assert.rejects(typed('reload time sleep'), /time\.sleep is a builtin_function_or_method, not a Python function/);
        rewrite('return sum(items) * 10', 'return super().__hash__() and sum(items)');
        await assert.rejects(
          typed('reload reload_mod Shop total'),
          /the new reload_mod\.Shop\.total uses other free variables \(__class__, was none\)/,
        );
        assert.equal(await value('held_total([1, 2])'), '30');
        await assert.rejects(typed('reload reload_mod'), /expected `module \[class\] method`/);
      } finally {
        client.close();
        await target.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
