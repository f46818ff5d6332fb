// Targets for the agent and channel tests, with injection simulated: the target script
// (test/targets/agent_host.py) runs the real bootstrap source on SIGUSR1, on its main
// thread between bytecodes as PyRun_SimpleString would, so everything after the
// injector's hand-off is exercised for real.
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bootstrapSource } from '../../src/attach/bootstrap.js';
import { AgentClient, AgentGoneError, type ConnectOptions } from '../../src/channel/client.js';
import { agentSocketPath } from '../../src/channel/socket-path.js';
import { runCli } from './cli.js';
import type { Interpreter } from './pythons.js';
import { startTarget, type Target } from './targets.js';

export interface AgentTarget extends Target {
  socketPath: string;
  /** the target's __main__ globals before any attach (from its READY line) */
  initialGlobals: string[];
  /** runs the bootstrap in the target (as the injector would) and connects */
  attach(opts?: ConnectOptions): Promise<AgentClient>;
  /** connects to the already running agent */
  connect(opts?: ConnectOptions): Promise<AgentClient>;
}

export async function startAgentTarget(
  py: Interpreter,
  opts: {
    args?: string[];
    mode?: 'main' | 'fresh';
    /** another target with agent_host.py's SIGUSR1 bootstrap runner */
    script?: string;
    /** a progress line of the target's own (the heartbeat is used otherwise): see Target.stop */
    progress?: RegExp;
    /** how long the target may take to print READY (importing torch on a loaded machine: long) */
    readyTimeoutMs?: number;
  } = {},
): Promise<AgentTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-agent-test-'));
  const bootstrapFile = join(dir, 'bootstrap.py');
  const target = await startTarget(py, opts.script ?? 'agent_host.py', opts.args ?? [], {
    env: { SPYGLASS_TEST_BOOTSTRAP: bootstrapFile, SPYGLASS_TEST_BOOTSTRAP_MODE: opts.mode ?? 'main' },
    // every test that attaches checks at its end that the target is alive and progressing
    heartbeat: true,
    progress: opts.progress,
    readyTimeoutMs: opts.readyTimeoutMs,
  });
  const socketPath = agentSocketPath(process.getuid!(), target.pid);
  writeFileSync(bootstrapFile, bootstrapSource({ socketPath }));
  const ready = await target.waitFor(/^READY /);
  const stop = target.stop.bind(target);
  // a loaded 2-core CI machine can keep a freshly started agent from answering within the
  // product's 5 s handshake wait; the tests give it longer rather than fail their setup
  const connect = (o: ConnectOptions = {}) => AgentClient.connect(socketPath, { expectPid: target.pid, handshakeTimeoutMs: 20000, ...o });
  return Object.assign(target, {
    socketPath,
    initialGlobals: (JSON.parse(ready.slice(6)) as { globals: string[] }).globals,
    connect,
    async attach(o: ConnectOptions = {}) {
      process.kill(target.pid, 'SIGUSR1');
      const deadline = Date.now() + 20000;
      for (;;) {
        try {
          return await connect(o);
        } catch (e) {
          if (!(e instanceof AgentGoneError)) throw e;
          if (Date.now() > deadline) throw await whyNoAgent(e, target, socketPath);
        }
        await sleep(10);
      }
    },
    async stop(stopOpts?: { expectExited?: boolean }) {
      try {
        await stop(stopOpts);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        rmSync(join(socketPath, '..'), { recursive: true, force: true });
      }
    },
  });
}

/**
 * The agent did not come up: the error, with what says why (the bootstrap's own report,
 * the target's stderr, and where each of its threads is, from a dump read from outside).
 */
async function whyNoAgent(e: Error, target: Target, socketPath: string): Promise<Error> {
  const errFile = join(socketPath, '..', 'bootstrap.err');
  const report = existsSync(errFile) ? readFileSync(errFile, 'utf8') : '(no bootstrap.err)';
  const dump = await runCli(['dump', String(target.pid)]).then(
    (r) => r.stdout + r.stderr,
    (d: unknown) => `dump failed: ${String(d)}`,
  );
  e.message += `\n--- bootstrap.err:\n${report}\n--- target stderr:\n${target.stderr().slice(-2000)}\n--- dump:\n${dump}`;
  return e;
}

/** Threads and open file descriptors of a live process (for leak checks). */
export function processResources(pid: number): { threads: number; fds: string[] } {
  const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '?';
    }
  });
  return { threads: readdirSync(`/proc/${pid}/task`).length, fds };
}
