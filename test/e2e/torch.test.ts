// torch: `torch profile` of a small model's forward in the CPU build of torch (the
// .venv-torch virtualenv made by scripts/install-test-deps.sh), the Chrome trace parsed
// for the model's operators; the CUDA-only commands fail clearly on CPU; a target that
// never imported torch gets a clear error on every interpreter, and torch stays unimported;
// with a stand-in torch module (torch_app.py --fake-torch) that claims CUDA, the snapshot
// and record paths (history on, dump, history off, the file streamed back in chunks) and
// the missing-API error run on every interpreter. Real CUDA (profiling CUDA activity,
// real snapshots) needs a GPU and is not run here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tokenize } from '../../src/commands/args.js';
import { torchCommand as cmd } from '../../src/commands/torch.js';
import type { AgentSession } from '../../src/channel/session.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { startAgentTarget, type AgentTarget } from '../helpers/agent-target.js';
import { commandContext } from '../helpers/command-context.js';
import { discoverPythons, type Interpreter } from '../helpers/pythons.js';

const VENV_PYTHON = join(PACKAGE_ROOT, '.venv-torch', 'bin', 'python');

/** The .venv-torch interpreter, or why the torch tests cannot run. */
function torchPython(): Interpreter | string {
  if (!existsSync(VENV_PYTHON)) return `${VENV_PYTHON} is missing (scripts/install-test-deps.sh creates it)`;
  const r = spawnSync(VENV_PYTHON, ['-c', 'import sys, torch; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8' });
  if (r.status !== 0) return `torch does not import in ${VENV_PYTHON}: ${r.stderr.trim().split('\n').pop()}`;
  const version = r.stdout.trim();
  return { path: VENV_PYTHON, version, minor: version.split('.').slice(0, 2).join('.'), build: 'shared', label: `${version}-venv-torch` };
}

async function run(target: AgentTarget, agent: AgentSession, line: string, cwd: string) {
  const { ctx, out } = commandContext(target.pid, { agent, cwd });
  await cmd.run(ctx, tokenize(line));
  return out;
}

const venv = torchPython();

describe('torch', { concurrency: true }, () => {
  test('profile a model forward (CPU torch); CUDA-only commands fail clearly', {
    skip: typeof venv === 'string' ? venv : false,
  }, async (t) => {
    const target = await startAgentTarget(venv as Interpreter, { script: 'torch_app.py', readyTimeoutMs: 90000 });
    t.after(() => target.stop());
    const client = await target.attach();
    t.after(() => client.close());
    const dir = mkdtempSync(join(tmpdir(), 'spyglass-torch-test-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));

    // default file: ./trace.json in the user's directory
    let out = await run(target, client, 'profile __main__ Net forward', dir);
    const rec = out.records[0] as { path: string; kind: string; method: string; bytes: number; torch: string; thread: string };
    assert.equal(rec.path, join(dir, 'trace.json'));
    assert.deepEqual([rec.kind, rec.method, rec.thread], ['trace', '__main__.Net.forward', 'driver']);
    assert.match(rec.torch, /^2\./);
    const trace = JSON.parse(readFileSync(rec.path, 'utf8')) as { traceEvents: Array<{ name: string; ph: string; cat?: string }> };
    assert.equal(readFileSync(rec.path).length, rec.bytes);
    const ops = new Set(trace.traceEvents.filter((e) => e.ph === 'X').map((e) => e.name));
    assert.ok(ops.has('aten::linear') || ops.has('aten::addmm'), `operators: ${[...ops].slice(0, 30).join(', ')}`);
    assert.ok(ops.has('aten::relu'), 'the relu between the two layers');
    // one forward: two linear layers, not the many of several calls
    const linears = trace.traceEvents.filter((e) => e.ph === 'X' && e.name === 'aten::linear').length;
    assert.equal(linears, 2, 'exactly the two Linear layers of one forward call');
    assert.match(
      out.lines.join('\n'),
      /torch profile info has been written to .*trace\.json \(\d+ bytes\): Chrome trace of one call of __main__\.Net\.forward/,
    );
    assert.match(out.lines.join('\n'), /ui\.perfetto\.dev or chrome:\/\/tracing/);
    assert.deepEqual(readdirSync(dir), ['trace.json'], 'no .part file left');

    // -f relative to the user's directory; a second run works (the hook was removed and re-installed)
    out = await run(target, client, 'profile __main__ Net forward -f sub.json', dir);
    assert.equal((out.records[0] as { path: string }).path, join(dir, 'sub.json'));
    assert.ok(JSON.parse(readFileSync(join(dir, 'sub.json'), 'utf8')).traceEvents.length > 0);

    // CUDA-only: a clear error on a CPU build, nothing written
    await assert.rejects(
      run(target, client, 'memory -s', dir),
      /torch memory snapshot is not enabled: CUDA is not available in the target \(torch 2\.[^)]*\)/,
    );
    await assert.rejects(
      run(target, client, 'memory -r __main__ Net forward', dir),
      /torch memory record is not enabled: CUDA is not available/,
    );
    assert.ok(!existsSync(join(dir, 'snapshot.pickle')) && !existsSync(join(dir, 'snapshot.pickle.part')));

    // grammar and names
    await assert.rejects(run(target, client, 'profile __main__ Net nope', dir), /nope/);
    await assert.rejects(run(target, client, 'memory', dir), /give one of -s/);
    await assert.rejects(run(target, client, 'memory -s __main__ Net forward', dir), /takes no method/);
    await assert.rejects(
      run(target, client, 'profile __main__ Net forward -f /nonexistent-dir/x.json', dir),
      /directory \/nonexistent-dir does not exist/,
    );
    await assert.rejects(run(target, client, 'flame', dir), /expected `profile` or `memory`/);
  });

  describe('torch not imported', { concurrency: 2 }, () => {
    const pythons: Interpreter[] = discoverPythons();
    if (typeof venv !== 'string') pythons.push(venv);
    for (const py of pythons) {
      test(py.label, async (t) => {
        const target = await startAgentTarget(py, { script: 'torch_app.py', args: ['--no-torch'] });
        t.after(() => target.stop());
        const client = await target.attach();
        t.after(() => client.close());
        for (const line of ['profile __main__ plain_step', 'memory -s']) {
          await assert.rejects(run(target, client, line, tmpdir()), /torch is not imported in the target process/);
        }
        // the agent did not import it either (the target reports any change)
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(
          [...target.stdout().matchAll(/^TORCH (\d)$/gm)].map((m) => m[1]),
          ['0'],
        );
      });
    }
  });
  describe('CUDA memory paths with a stand-in torch', { concurrency: 2 }, () => {
    for (const py of discoverPythons()) {
      test(py.label, async (t) => {
        const target = await startAgentTarget(py, { script: 'torch_app.py', args: ['--fake-torch'] });
        t.after(() => target.stop());
        const client = await target.attach();
        t.after(() => client.close());
        const dir = mkdtempSync(join(tmpdir(), 'spyglass-torch-fake-'));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        const snapshot = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 256));

        // -s: the bytes torch wrote, unchanged, in ./snapshot.pickle
        let out = await run(target, client, 'memory -s', dir);
        const s = out.records[0] as { path: string; kind: string; bytes: number; torch: string };
        assert.deepEqual([s.path, s.kind, s.bytes, s.torch], [join(dir, 'snapshot.pickle'), 'memory_snapshot', 300_000, '2.5.0+fake']);
        assert.deepEqual(readFileSync(s.path), snapshot);
        assert.match(out.lines.join('\n'), /pytorch\.org\/memory_viz/);

        // -r: history on as the call starts, dumped and off as it ends, hook gone
        out = await run(target, client, 'memory -r __main__ plain_step -f rec.pickle', dir);
        const r = out.records[0] as { path: string; method: string; thread: string };
        assert.deepEqual([r.path, r.method, r.thread], [join(dir, 'rec.pickle'), '__main__.plain_step', 'driver']);
        assert.deepEqual(readFileSync(r.path), snapshot);
        // the target's own lines may reach us a moment after the command's answer
        await target.waitFor(/^FAKE record None$/, 10000);
        const fake = [...target.stdout().matchAll(/^FAKE (.*)$/gm)].map((m) => m[1]);
        assert.deepEqual(fake, ['dump', 'record all', 'dump', 'record None']);
        assert.deepEqual(readdirSync(dir).sort(), ['rec.pickle', 'snapshot.pickle']);

        // Ctrl-C while waiting for a call that never comes: nothing written, history never on
        const waiting = commandContext(target.pid, { agent: client, cwd: dir });
        setTimeout(() => waiting.abort.abort(), 1000);
        await cmd.run(waiting.ctx, tokenize('memory -r __main__ install_fake_torch -f never.pickle'));
        assert.equal((waiting.out.records[0] as { path: unknown }).path, null);
        assert.match(waiting.out.notes.join('\n'), /stopped before __main__\.install_fake_torch was called; hook removed, nothing written/);
        assert.deepEqual(readdirSync(dir).sort(), ['rec.pickle', 'snapshot.pickle']);
        assert.equal([...target.stdout().matchAll(/^FAKE /gm)].length, 4);

        // a torch without torch.profiler
        await assert.rejects(
          run(target, client, 'profile __main__ plain_step', dir),
          /torch 2\.5\.0\+fake has no torch\.profiler, which torch profile needs/,
        );
      });
    }
  });
});
