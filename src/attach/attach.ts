// attach(pid): from a pid to a connected AgentSession. Locate the interpreter; reuse the
// agent if its socket already answers (attaching twice, or a second client); otherwise get
// the bootstrap run inside the target (PEP 768 on 3.14 when allowed, ptrace injection
// otherwise), wait for the socket with a deadline, and shake hands.
import { readFileSync, rmSync } from 'node:fs';
import { NotPythonError, ProcessGoneError, UserError } from '../errors.js';
import { ProcessMemory } from '../proc/memory.js';
import { isExiting, isSpyglass, processExists, processInfo, threadState } from '../proc/process.js';
import { locatePython, type PythonTarget } from '../reader/locate.js';
import { DEBUG_OFFSETS_MAX_SIZE } from '../reader/layouts/debug-offsets.js';
import { agentSocketPath, bootstrapErrorPath } from '../channel/socket-path.js';
import { AgentClient, AgentGoneError, AgentNotAnsweringError } from '../channel/client.js';
import { sweepStaleAgentDirs } from '../channel/stale-dirs.js';
import type { AgentSession } from '../channel/session.js';
import { bootstrapSource } from './bootstrap.js';
import { AlreadyTracedError, DirectUnavailableError, injectPython, type Strategy } from './inject.js';
import { remoteDebugOffsets } from '../reader/remote-debug.js';
import { RemoteDebugUnavailableError, sendRemoteExec } from './pep768.js';
import { writeScriptFile } from './script-file.js';
import { agentNotAnswering } from './unanswered.js';

export interface AttachOptions {
  /** give up after this long (default 5 s) */
  timeoutMs?: number;
  /** for the tests: the strategy of the first ptrace injection, where it is safe */
  strategy?: Strategy;
}

export interface AttachedSession {
  pid: number;
  agent: AgentSession;
  /** e.g. "3.12.1" */
  version: string;
  /** how the agent got there: already running, or the injection strategy used */
  how: 'reused' | Strategy | 'pep768';
  /** command start to agent ready, in milliseconds */
  latencyMs: number;
  /** resolves with a reason when the connection drops (the target exited) */
  lost: Promise<string>;
  /** how long the agent has sent nothing since a message of this client (0: all answered) */
  unansweredMs(): number;
  /** removes this client's hooks and disconnects; the agent stays for the next attach.
   * Waits at most timeoutMs (default 2 s) for the agent's acknowledgement. */
  detach(timeoutMs?: number): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** how long a pending call may take before a direct call is tried (see attach) */
const PENDING_RETRY_MS = 250;
/** how long a started agent may leave the handshake unanswered before attach blames it */
const SILENT_AGENT_MS = 1000;

function wrap(conn: AgentClient, target: { pid: number; version: string }, how: AttachedSession['how'], started: number): AttachedSession {
  return {
    pid: target.pid,
    agent: conn,
    version: target.version,
    how,
    latencyMs: Date.now() - started,
    lost: conn.whenClosed.then((e) => e.message),
    unansweredMs: () => conn.unansweredMs,
    detach: (timeoutMs) => conn.detach(timeoutMs),
  };
}

/** A connection to the agent of pid; undefined when nobody listens on its socket (yet);
 * 'silent' when an agent accepted the connection but did not answer the handshake in time. */
async function tryConnect(socketPath: string, pid: number, deadline: number): Promise<AgentClient | 'silent' | undefined> {
  try {
    const left = Math.max(deadline - Date.now(), 100);
    return await AgentClient.connect(socketPath, { expectPid: pid, connectTimeoutMs: left, handshakeTimeoutMs: left });
  } catch (e) {
    // not listening (yet), or a stale socket left by an earlier process with this pid
    if (e instanceof AgentGoneError) return undefined;
    if (e instanceof AgentNotAnsweringError) return 'silent';
    throw e;
  }
}

/** 3.14 with remote debugging enabled and a running main thread: the script is run at its next bytecode. */
async function tryPep768(target: PythonTarget, source: string, uid: number): Promise<boolean> {
  if (target.version.minor < 14) return false;
  // a main thread blocked in C would run the script only when it returns: ptrace does better there
  if (threadState(target.pid, target.pid) !== 'R') return false;
  const mem = ProcessMemory.open(target.pid, { write: true });
  try {
    const offsets = remoteDebugOffsets(mem.read(target.pyRuntime, DEBUG_OFFSETS_MAX_SIZE));
    if (!offsets) return false;
    const path = writeScriptFile(target.pid, uid, source);
    sendRemoteExec(mem, target.pyRuntime, offsets, path);
    return true;
  } catch (e) {
    if (e instanceof RemoteDebugUnavailableError) return false;
    throw e;
  } finally {
    mem.close();
  }
}

/** The last line of the traceback the bootstrap leaves when the agent cannot start. */
function readBootstrapError(uid: number, pid: number): string | undefined {
  try {
    return readFileSync(bootstrapErrorPath(uid, pid), 'utf8').trim().split('\n').pop();
  } catch {
    return undefined;
  }
}

export async function attach(pid: number, opts: AttachOptions = {}): Promise<AttachedSession> {
  const started = Date.now();
  const deadline = started + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  if (!processExists(pid)) throw new ProcessGoneError(pid);
  const info = processInfo(pid);
  // stopped (SIGSTOP, Ctrl-Z), it runs no code until continued, an agent's thread neither:
  // said at once rather than after waiting the whole timeout for the attach code
  if (info.state === 'T') {
    throw new UserError(
      `process ${pid} is stopped (SIGSTOP or Ctrl-Z): it runs no code, spyglass's included, until it is continued`,
      `continue it (kill -CONT ${pid}, or fg in its shell) and attach again; \`spyglass dump ${pid}\` reads a stopped process`,
    );
  }
  const target = locatePython(pid);
  const version = target.version.text;
  try {
    const socketPath = agentSocketPath(info.uid, pid);
    const existing = await tryConnect(socketPath, pid, deadline);
    // an agent is there but silent for the whole attach timeout: injecting another would
    // not help, and saying where its threads are does
    if (existing === 'silent') {
      if (!processExists(pid)) throw new ProcessGoneError(pid);
      throw await agentNotAnswering(pid, Date.now() - started);
    }
    if (existing) return wrap(existing, { pid, version }, 'reused', started);

    sweepStaleAgentDirs(info.uid);
    rmSync(bootstrapErrorPath(info.uid, pid), { force: true });
    const source = bootstrapSource({ socketPath });
    let how: AttachedSession['how'];
    if (await tryPep768(target, source, info.uid)) {
      how = 'pep768';
    } else {
      try {
        // a pending call that runs after we gave up must not start an agent nobody waits for
        how = (await injectPython(target, source, { deadline, expiresAt: deadline, strategy: opts.strategy })).strategy;
      } catch (e) {
        // another spyglass is injecting right now (two first attaches at once): its agent
        // will serve this client too, so wait for its socket below
        if (!(e instanceof AlreadyTracedError && isSpyglass(e.tracer))) throw e;
        how = 'reused';
      }
    }

    let nextDirectTry = Date.now() + PENDING_RETRY_MS;
    /** since when the agent's socket has accepted connections without an answer */
    let silentSince: number | undefined;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      const tried = Date.now();
      const conn = await tryConnect(socketPath, pid, deadline);
      if (conn === 'silent') silentSince ??= tried;
      else if (conn) return wrap(conn, { pid, version }, how, started);
      // A pending call runs at the main thread's next bytecode; if the thread went into a
      // blocking call first (it was queued just before an Event().wait()), it may never run.
      // Once the thread is blocked, a direct call gets in (running the bootstrap twice is
      // harmless: the second finds the agent the first started).
      if (how === 'pending' && Date.now() >= nextDirectTry && Date.now() < deadline) {
        nextDirectTry = Date.now() + PENDING_RETRY_MS;
        try {
          how = (await injectPython(target, source, { deadline, expiresAt: deadline, strategy: 'direct' })).strategy;
        } catch (e) {
          // a follow-up that ran out of time is the deadline's failure, reported below
          if (!(e instanceof DirectUnavailableError) && Date.now() < deadline) throw e;
        }
        continue;
      }
      if (isExiting(pid)) throw new ProcessGoneError(pid); // worded below
      const failure = readBootstrapError(info.uid, pid);
      if (failure)
        throw new UserError(
          `the spyglass agent could not start in process ${pid}: ${failure}`,
          `details in ${bootstrapErrorPath(info.uid, pid)}`,
        );
      if (Date.now() > deadline) {
        // the agent started (its socket accepted us) but has not answered for a while: say
        // where it is (silent only briefly, it is more likely slow to start on a busy machine)
        if (silentSince !== undefined && Date.now() - silentSince >= SILENT_AGENT_MS)
          throw await agentNotAnswering(pid, Date.now() - silentSince);
        throw new UserError(
          `process ${pid} did not run the attach code within ${((deadline - started) / 1000).toFixed(1)} s; it was left as it was`,
          how === 'pending'
            ? 'its main thread has not reached Python code: a C call may be holding the GIL (`spyglass dump ' + pid + '` shows where)'
            : 'try again with a longer --attach-timeout',
        );
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  } catch (e) {
    // it was there when the attach began: gone now (whichever read or ptrace call noticed), it exited during it
    const exited = `process ${pid} exited while spyglass was attaching`;
    if (e instanceof ProcessGoneError) throw new ProcessGoneError(pid, exited);
    if (e instanceof NotPythonError || e instanceof UserError) throw e;
    // killed, it is a zombie until reaped: its files (libpython through map_files) are gone already
    if (isExiting(pid)) throw new ProcessGoneError(pid, exited);
    throw e;
  } finally {
    target.close();
  }
}
