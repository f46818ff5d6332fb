// The agent and the channel end to end, on every interpreter, with injection simulated
// by the target itself (test/helpers/agent-target.ts): handshake, a value only the
// target knows, concurrent clients, reuse on a second attach, the socket's security,
// hook ownership (cancel, reset, detach, kill -9 of the client), no trace left in the
// target (globals, output, threads, fds), shutdown.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AgentClient, type AgentCommandError, AgentGoneError } from '../../src/channel/client.js';
import type { HelloData, RenderedNode } from '../../src/channel/protocol.js';
import { bootstrapErrorPath } from '../../src/channel/socket-path.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { hasExited } from '../../src/proc/process.js';
import { processResources, startAgentTarget, type AgentTarget } from '../helpers/agent-target.js';
import { discoverPythons, type Interpreter } from '../helpers/pythons.js';
import { startTarget } from '../helpers/targets.js';

const pythons = discoverPythons();

async function evalRepr(c: AgentClient, expr: string): Promise<string> {
  return ((await c.call('eval', { expr })) as RenderedNode).repr;
}

async function withTarget(
  py: Interpreter,
  fn: (t: AgentTarget) => Promise<void>,
  opts: Parameters<typeof startAgentTarget>[1] = {},
  stopOpts: { expectExited?: boolean } = {},
) {
  const t = await startAgentTarget(py, opts);
  try {
    await fn(t);
  } finally {
    await t.stop(stopOpts);
  }
}

/** Starts probe on __main__.compute and waits until the hook is in. */
async function startProbe(c: AgentClient) {
  const stream = c.request('probe', { module: '__main__', method: 'compute' });
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  assert.equal(first.value?.event, 'hooked');
  assert.deepEqual(first.value?.data, { target: '__main__.compute' });
  return { stream, it };
}

/** The id of compute's code object, and whether it is the hook wrapper. */
async function codeState(c: AgentClient): Promise<{ id: string; hooked: boolean }> {
  return {
    id: await evalRepr(c, 'id(compute.__code__)'),
    hooked: (await evalRepr(c, "compute.__code__.co_filename == '<spyglass hook>'")) === 'True',
  };
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** Runs `python -c code` as user nobody and returns its stdout. */
function asNobody(code: string): string {
  return execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '/usr/bin/python3', '-c', code], {
    encoding: 'utf8',
    timeout: 10000,
  }).trim();
}

const isRoot = process.getuid?.() === 0;

for (const py of pythons) {
  describe(`agent and channel on ${py.label}`, { concurrency: true }, () => {
    test('hello, a value only the target knows, two clients, detach, reuse; no trace in globals or output', async () => {
      await withTarget(py, async (t) => {
        const a = await t.attach();
        const hello: HelloData = a.hello;
        assert.equal(hello.pid, t.pid);
        assert.equal(hello.python.version, py.version);
        assert.equal(hello.socket, t.socketPath);
        assert.equal(hello.clients, 1);
        for (const name of ['MainThread', 'spyglass-agent', 'spyglass-conn-1']) assert.ok(hello.threads.includes(name), name);
        assert.equal(await evalRepr(a, 'SECRET'), `'only-the-target-knows-${t.pid}'`);
        const shop = (await a.call('eval', { expr: 'shop', expand: 2 })) as RenderedNode;
        assert.equal(shop.type, '__main__.Shop');
        assert.deepEqual(
          shop.children?.[0].value.children?.map((c) => [c.key?.repr, c.value.repr]),
          [
            ["'apple'", '3'],
            ["'pear'", '5'],
          ],
        );

        // a second client while the first is connected; both are served concurrently
        const b = await t.connect();
        assert.equal(b.hello.clients, 2);
        assert.equal(b.hello.started_at, hello.started_at);
        const [x, y] = await Promise.all([evalRepr(a, 'compute(3)'), evalRepr(b, 'Shop.tax(123)')]);
        assert.deepEqual([x, y], ['10', '12']);

        await a.detach();
        await assert.rejects(a.call('ping'), AgentGoneError);
        assert.equal(await evalRepr(b, '1 + 1'), '2');
        await b.detach();

        // attaching again runs the bootstrap again: it finds and reuses the agent
        const c = await t.attach();
        assert.equal(c.hello.started_at, hello.started_at);
        assert.equal(c.hello.clients, 1);
        assert.equal(await evalRepr(c, "len([m for m in __import__('sys').modules if m.startswith('_spyglass_agent')]) > 5"), 'True');
        const globals = (await c.call('eval', { expr: "sorted(vars(__import__('__main__')))", verbose: true })) as RenderedNode;
        assert.deepEqual(
          globals.children?.map((ch) => JSON.parse(ch.value.repr.replace(/'/g, '"'))),
          t.initialGlobals,
        );
        await c.detach();
        assert.equal(t.stdout(), t.stdout().split('\n')[0] + '\n', 'the target printed only READY');
        assert.equal(t.stderr(), '');
      });
    });

    test('errors come back typed, one line, with hints', async () => {
      await withTarget(py, async (t) => {
        const c = await t.attach();
        await assert.rejects(c.call('nope'), (e: AgentCommandError) => e.type === 'UnknownCommand' && /eval/.test(e.hint ?? ''));
        await assert.rejects(
          c.call('eval', { expr: 'nosuchname' }),
          (e: AgentCommandError) => e.type === 'ExpressionFailed' && /NameError/.test(e.message),
        );
        await assert.rejects(c.call('eval', { expr: '1 +' }), (e: AgentCommandError) => e.type === 'BadExpression');
        await assert.rejects(c.call('eval', {}), (e: AgentCommandError) => e.type === 'BadArguments' && /expr/.test(e.message));
        await assert.rejects(
          c.call('eval', { expr: '1', module: 'not_imported_mod' }),
          (e: AgentCommandError) => e.type === 'ModuleNotFound',
        );
        await assert.rejects(c.call('probe', { module: '__main__', method: 'len' }), (e: AgentCommandError) => e.type === 'MethodNotFound');
        await assert.rejects(
          c.call('probe', { module: '__main__', class: 'Shop', method: 'items' }),
          (e: AgentCommandError) => e.type === 'MethodNotFound',
        );
        // the connection is still fine after errors
        assert.equal(await evalRepr(c, 'compute(2)'), '5');
        await c.detach();
      });
    });

    test('socket directory 0700, socket 0600; another uid cannot connect, and SO_PEERCRED refuses it even through a hard link', {
      skip: !isRoot && 'needs root to switch users',
    }, async () => {
      await withTarget(py, async (t) => {
        const c = await t.attach();
        const uid = process.getuid!();
        for (const [path, mode] of [
          [dirname(dirname(t.socketPath)), 0o700],
          [dirname(t.socketPath), 0o700],
          [t.socketPath, 0o600],
        ] as const) {
          const st = lstatSync(path);
          assert.equal(st.mode & 0o777, mode, path);
          assert.equal(st.uid, uid, path);
        }
        assert.ok(lstatSync(t.socketPath).isSocket());
        // nothing listens on TCP: none of the target's sockets is an inet one
        const inodes = processResources(t.pid)
          .fds.map((l) => /^socket:\[(\d+)\]$/.exec(l)?.[1])
          .filter(Boolean);
        const inet = ['tcp', 'tcp6', 'udp', 'udp6']
          .flatMap((f) => readFileSync(`/proc/${t.pid}/net/${f}`, 'utf8').trim().split('\n').slice(1))
          .map((l) => l.trim().split(/\s+/)[9]);
        assert.deepEqual(
          inodes.filter((i) => inet.includes(i!)),
          [],
        );
        const listening = readFileSync(`/proc/${t.pid}/net/unix`, 'utf8')
          .split('\n')
          .map((l) => l.trim().split(/\s+/))
          .filter((f) => f[3] === '00010000' && f[7] === t.socketPath && inodes.includes(f[6]));
        assert.equal(listening.length, 1, 'the agent listens on its Unix socket');

        // connect and read: a refused peer gets one error line, then EOF
        const connectCode = (p: string) =>
          `import socket\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(${JSON.stringify(p)}); print(s.makefile().read().strip())\nexcept OSError as e: print(type(e).__name__)`;
        assert.equal(asNobody(connectCode(t.socketPath)), 'PermissionError');

        // a hard link in an open directory with loosened modes gets past the file system:
        // the agent's peer-credential check must still refuse
        const open = mkdtempSync(join(tmpdir(), 'spyglass-peercred-'));
        try {
          chmodSync(open, 0o777);
          const link = join(open, 'agent.sock');
          linkSync(t.socketPath, link);
          chmodSync(link, 0o666);
          const reply = JSON.parse(asNobody(connectCode(link)));
          assert.equal(reply.error.type, 'PermissionDenied');
          assert.match(reply.error.message, /uid 65534/);
          assert.equal(reply.id, undefined);
        } finally {
          chmodSync(t.socketPath, 0o600);
          rmSync(open, { recursive: true, force: true });
        }
        assert.equal(await evalRepr(c, '"still served"'), "'still served'");
        await c.detach();
      });
    });

    test('unsafe run directories are refused; a failed bootstrap reports why and leaves the target fine', async () => {
      await withTarget(py, async (t) => {
        const pidDir = dirname(t.socketPath);
        mkdirSync(dirname(pidDir), { recursive: true, mode: 0o700 });
        // an earlier process with this pid, killed with its agent loaded, may have left one
        rmSync(pidDir, { recursive: true, force: true });
        // a symlink planted where the per-pid directory goes is never followed
        const elsewhere = mkdtempSync(join(tmpdir(), 'spyglass-planted-'));
        symlinkSync(elsewhere, pidDir);
        try {
          process.kill(t.pid, 'SIGUSR1');
          await sleep(500);
          assert.deepEqual(readdirSync(elsewhere), []);
        } finally {
          rmSync(pidDir, { force: true });
          rmSync(elsewhere, { recursive: true, force: true });
        }
        // something in the socket's place that cannot be replaced: the bootstrap says why
        mkdirSync(join(t.socketPath, 'occupied'), { recursive: true });
        process.kill(t.pid, 'SIGUSR1');
        const errFile = bootstrapErrorPath(process.getuid!(), t.pid);
        await waitUntil('bootstrap.err is written', async () => existsSync(errFile));
        assert.match(readFileSync(errFile, 'utf8').trim().split('\n').pop()!, /IsADirectoryError|PermissionError/);
        assert.equal(lstatSync(errFile).mode & 0o777, 0o600);
        rmSync(t.socketPath, { recursive: true });
        const logFile = join(dirname(t.socketPath), 'agent.log');
        writeFileSync(logFile, 'a line from an earlier process with this pid\n');
        const c = await t.attach();
        assert.equal(existsSync(errFile), false, 'a started agent clears the old error');
        assert.doesNotMatch(readFileSync(logFile, 'utf8'), /earlier process/, '... and starts a fresh log');
        assert.match(readFileSync(logFile, 'utf8'), /listening on/);
        assert.equal(await evalRepr(c, 'compute(1)'), '2');
        await c.detach();
        assert.equal(t.stderr(), '');
      });
    });

    test('hooks belong to the client: cancel, reset, detach and kill -9 each restore the original __code__', async () => {
      await withTarget(py, async (t) => {
        const observer = await t.attach();
        const original = await codeState(observer);
        assert.equal(original.hooked, false);
        const expectRestored = async (how: string) => {
          await waitUntil(`compute is restored after ${how}`, async () => (await codeState(observer)).id === original.id);
          assert.equal(await evalRepr(observer, 'compute(7)'), '50', how);
          assert.equal(await evalRepr(observer, 'callbacks[0] is compute'), 'True');
        };

        // cancel: the stream ends, flagged cancelled, and the hook is gone
        const a = await t.connect();
        const p1 = await startProbe(a);
        assert.deepEqual(await codeState(observer), { id: (await codeState(observer)).id, hooked: true });
        assert.equal(await evalRepr(observer, 'callbacks[0](2)'), '5'); // an old reference sees the hook...
        const call = await p1.it.next();
        assert.equal(call.value?.event, 'call');
        assert.equal((call.value?.data as { count: number } | undefined)?.count, 1); // ...and it was observed
        p1.stream.cancel();
        while (!(await p1.it.next()).done);
        assert.equal(p1.stream.cancelled, true);
        await expectRestored('cancel');

        // two clients on one function compose; removing one keeps the other
        const b = await t.connect();
        const p2 = await startProbe(a);
        const p3 = await startProbe(b);
        await evalRepr(observer, 'compute(1)');
        assert.equal((await p2.it.next()).value?.event, 'call');
        assert.equal((await p3.it.next()).value?.event, 'call');
        // reset removes everything client a owns and ends its running request
        const reset = (await a.call('reset')) as { cancelled: number };
        assert.equal(reset.cancelled, 1);
        while (!(await p2.it.next()).done);
        assert.equal((await codeState(observer)).hooked, true, "b's hook stays");
        // detach of b removes the last hook
        await b.detach();
        await expectRestored('reset + detach');

        // kill -9 of a client process in the middle of a stream
        const child = spawn(
          process.execPath,
          [join(PACKAGE_ROOT, 'dist/test/helpers/agent-probe-client.js'), t.socketPath, String(t.pid)],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        try {
          await new Promise<void>((resolve, reject) => {
            child.stdout!.on('data', (d: Buffer) => d.toString().includes('HOOKED') && resolve());
            child.on('exit', () => reject(new Error('client exited early')));
          });
          assert.equal((await codeState(observer)).hooked, true);
          child.kill('SIGKILL');
        } finally {
          if (child.exitCode === null) child.kill('SIGKILL');
        }
        await expectRestored('kill -9 of the client');
        await a.detach();
        await observer.detach();
      });
    });

    test('50 attach/detach cycles on a busy multi-threaded target: no leaked thread or fd, same results', async () => {
      const args = ['--workers', '3', '--rounds', '150'];
      const untouched = await startTarget(py, 'agent_host.py', args);
      let expected: string;
      try {
        await untouched.waitFor(/^RESULT w2 /, 30000);
        await untouched.waitFor(/^RESULT w0 /, 30000);
        await untouched.waitFor(/^RESULT w1 /, 30000);
        expected = untouched
          .stdout()
          .split('\n')
          .filter((l) => l.startsWith('RESULT'))
          .sort()
          .join('\n');
      } finally {
        await untouched.stop();
      }
      await withTarget(
        py,
        async (t) => {
          await (await t.attach()).detach();
          await sleep(100);
          const baseline = processResources(t.pid);
          for (let i = 0; i < 50; i++) {
            const c = await t.connect();
            assert.equal(await evalRepr(c, 'compute(4)'), '17');
            if (i % 10 === 0) {
              const p = await startProbe(c);
              assert.equal((await p.it.next()).value?.event, 'call'); // the workers call it
            }
            if (i % 2) await c.detach();
            else c.close(); // abrupt close, as a dying client
          }
          const check = await t.connect();
          await waitUntil('the agent has let go of the 50 clients', async () => {
            const hello = (await check.call('hello')) as HelloData;
            return hello.clients === 1;
          });
          await check.detach();
          await sleep(100);
          const after = processResources(t.pid);
          assert.equal(after.threads, baseline.threads, 'threads');
          assert.deepEqual(after.fds.sort(), baseline.fds.sort(), 'file descriptors');
          for (const w of ['w0', 'w1', 'w2']) await t.waitFor(new RegExp(`^RESULT ${w} `), 30000);
          const got = t
            .stdout()
            .split('\n')
            .filter((l) => l.startsWith('RESULT'))
            .sort()
            .join('\n');
          assert.equal(got, expected);
          assert.equal(t.stderr(), '');
        },
        { args },
      );
    });

    test("the bootstrap's thread may hold threading's lock: the agent still starts, the thread carries on, no dummy thread", async () => {
      await withTarget(
        py,
        async (t) => {
          const c = await t.attach();
          await t.waitFor(/^RELEASED/, 5000);
          assert.equal(
            await evalRepr(
              c,
              "sorted(t.name for t in __import__('threading').enumerate() if not t.name.startswith(('spyglass-', 'test-heartbeat')))",
            ),
            "['MainThread']",
          );
          await c.detach();
          assert.equal(t.stderr(), '');
        },
        { script: 'bootstrap_in_lock.py' },
      );
    });

    test('a target that exits normally with the agent loaded takes its socket directory along', async () => {
      await withTarget(
        py,
        async (t) => {
          const before = await t.attach();
          const handlers = await evalRepr(before, "__import__('atexit')._ncallbacks()");
          await before.detach();
          const c = await t.attach();
          assert.equal(await evalRepr(c, "__import__('atexit')._ncallbacks()"), handlers, 'one exit handler per agent, not one per attach');
          await c.detach();
          assert.equal(existsSync(t.socketPath), true, 'the agent stays loaded after a detach');
          process.kill(t.pid, 'SIGUSR2');
          await waitUntil('the target exits', async () => hasExited(t.pid));
          assert.equal(existsSync(dirname(t.socketPath)), false);
          assert.equal(t.stderr(), '');
        },
        {},
        { expectExited: true },
      );
    });

    test('shutdown removes the agent entirely; a later attach starts a fresh one (PEP 768 style: fresh globals)', async () => {
      await withTarget(
        py,
        async (t) => {
          const a = await t.attach();
          const b = await t.connect();
          await startProbe(b);
          const original = await evalRepr(a, 'compute.__code__.co_filename');
          assert.equal(original, "'<spyglass hook>'");
          const res = (await a.call('shutdown')) as { clients: number };
          assert.equal(res.clients, 2);
          await a.whenClosed;
          await b.whenClosed;
          await waitUntil('the socket directory is gone', async () => !existsSync(dirname(t.socketPath)));
          assert.equal(existsSync(dirname(dirname(t.socketPath))), true, 'the per-user base stays');
          await assert.rejects(t.connect(), (e: AgentGoneError) => e instanceof AgentGoneError && e.code === 'ENOENT');
          const c = await t.attach();
          assert.equal(c.hello.clients, 1);
          assert.ok(c.hello.started_at > a.hello.started_at);
          assert.match(await evalRepr(c, 'compute.__code__.co_filename'), /agent_host\.py/);
          const threads = (await c.call('threads')) as { threads: Array<{ name: string; agent: boolean }> };
          // one agent: its accept thread, this connection's two threads and this request
          assert.deepEqual(
            threads.threads
              .filter((x) => x.agent)
              .map((x) => x.name.replace(/-\d+/g, ''))
              .sort(),
            ['spyglass-agent', 'spyglass-conn', 'spyglass-req', 'spyglass-send'],
          );
          await c.detach();
          assert.equal(t.stderr(), '');
        },
        { mode: 'fresh' },
      );
    });
  });
}
