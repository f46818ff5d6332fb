// The client end of the channel: one Unix socket connection to the agent in the target,
// a `hello` handshake, then any number of concurrent requests, each an async stream of
// events. Closing the connection (detach, Ctrl-C, or this process dying) makes the agent
// remove every hook this client installed.
import { connect as netConnect, type Socket } from 'node:net';
import { UserError } from '../errors.js';
import { AgentCommandError } from './agent-error.js';
import type { AgentEvent, AgentSession, AgentStream } from './session.js';

export { AgentCommandError };
import { PROTOCOL_VERSION, parseAgentMessage, type AgentMessage, type ClientMessage, type HelloData, type RequestId } from './protocol.js';

/** The agent is not there (never started, stopped, or the target exited). */
export class AgentGoneError extends UserError {
  /** the connect() errno code (ENOENT, ECONNREFUSED: nobody listens there yet) */
  readonly code?: string;
  constructor(message: string, hint = 'the target may have exited; attach again with `spyglass PID`', code?: string) {
    super(message, hint);
    this.name = 'AgentGoneError';
    this.code = code;
  }
}

/** The agent's socket accepted the connection, but the agent answered nothing in time
 * (its threads cannot run: the GIL held by a C call, a deadlock). The attach layer
 * replaces it with one that says where the agent's threads are. */
export class AgentNotAnsweringError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'AgentNotAnsweringError';
  }
}

export interface ConnectOptions {
  /** give up connecting after this long (default 2000 ms) */
  connectTimeoutMs?: number;
  /** give up waiting for the hello answer after this long (default 5000 ms) */
  handshakeTimeoutMs?: number;
  /** the pid the agent must report (guards against a stale socket of another process) */
  expectPid?: number;
  /** sent in hello, shown in the agent's log */
  clientName?: string;
}

interface Pending {
  events: AgentEvent[];
  wake?: () => void;
  done: boolean;
  endData?: unknown;
  cancelled: boolean;
  dropped: number;
  error?: Error;
}

/** A running request: iterate it for events; it ends at the agent's `end`. */
export class RequestStream implements AgentStream {
  constructor(
    private readonly client: AgentClient,
    readonly id: RequestId,
    private readonly state: Pending,
  ) {}

  get endData(): unknown {
    return this.state.endData;
  }
  /** true when the stream ended because it was cancelled */
  get cancelled(): boolean {
    return this.state.cancelled;
  }
  /** events the agent dropped because we read too slowly */
  get dropped(): number {
    return this.state.dropped;
  }

  cancel(): void {
    if (!this.state.done) this.client.send({ id: this.id, cancel: true });
  }

  /** input for the running request (console lines...): `{id, input: data}` */
  send(data: unknown): void {
    if (!this.state.done) this.client.send({ id: this.id, input: data });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<AgentEvent> {
    const s = this.state;
    for (;;) {
      if (s.events.length) {
        yield s.events.shift()!;
        continue;
      }
      if (s.error) throw s.error;
      if (s.done) return;
      await new Promise<void>((resolve) => (s.wake = resolve));
      s.wake = undefined;
    }
  }

  /** all events until the end (for short streams and tests) */
  async collect(): Promise<AgentEvent[]> {
    const out: AgentEvent[] = [];
    for await (const e of this) out.push(e);
    return out;
  }
}

export class AgentClient implements AgentSession {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<RequestId, Pending>();
  private closedError?: Error;
  /** when the oldest message the agent has not answered yet (nothing received since) was sent */
  private waitingSince?: number;
  private detachWaiter?: () => void;
  private resolveClosed!: (e: Error) => void;
  /** resolves with the reason once the connection is closed (detach, or the target exited) */
  readonly whenClosed = new Promise<Error>((resolve) => (this.resolveClosed = resolve));
  hello!: HelloData;

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
    private readonly label: string,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => {
      /* reported through 'close' */
    });
    socket.on('close', () => this.onClose());
  }

  /** Connects to the agent at socketPath and completes the handshake. */
  static async connect(socketPath: string, opts: ConnectOptions = {}): Promise<AgentClient> {
    const label = opts.expectPid !== undefined ? `process ${opts.expectPid}` : socketPath;
    const socket = await openSocket(socketPath, label, opts.connectTimeoutMs ?? 2000);
    const client = new AgentClient(socket, socketPath, label);
    const timeoutMs = opts.handshakeTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const hello = (await Promise.race([
        client.call('hello', { protocol: PROTOCOL_VERSION, client: opts.clientName ?? 'spyglass' }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new AgentNotAnsweringError(`the agent in ${label} did not answer the handshake within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ])) as HelloData;
      if (hello.protocol !== PROTOCOL_VERSION) {
        throw new UserError(
          `the agent in ${label} speaks protocol ${hello.protocol}, this spyglass speaks ${PROTOCOL_VERSION}`,
          'stop that agent (`shutdown` from the spyglass that started it) and attach again',
        );
      }
      if (opts.expectPid !== undefined && hello.pid !== opts.expectPid) {
        throw new AgentGoneError(`the socket ${socketPath} belongs to process ${hello.pid}, not ${opts.expectPid}`);
      }
      client.hello = hello;
      return client;
    } catch (e) {
      client.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  get isClosed(): boolean {
    return this.closedError !== undefined;
  }

  /** How long the agent has sent nothing since a message of ours (0 when it has answered
   * everything sent): a stuck agent is told from one that is only slow to stop by this. */
  get unansweredMs(): number {
    return this.waitingSince === undefined ? 0 : Date.now() - this.waitingSince;
  }

  send(message: ClientMessage): void {
    if (this.closedError) throw this.closedError;
    this.waitingSince ??= Date.now();
    this.socket.write(JSON.stringify(message) + '\n');
  }

  request(cmd: string, args: Record<string, unknown> = {}): RequestStream {
    const id = this.nextId++;
    const state: Pending = { events: [], done: false, cancelled: false, dropped: 0 };
    if (this.closedError) {
      state.error = this.closedError;
    } else {
      this.pending.set(id, state);
      this.send({ id, cmd, args });
    }
    return new RequestStream(this, id, state);
  }

  async call(cmd: string, args: Record<string, unknown> = {}): Promise<unknown> {
    const stream = this.request(cmd, args);
    for await (const _ of stream) {
      // a call has no stream; events (if any) are ignored
    }
    return stream.endData;
  }

  /** Tells the agent to release everything this client owns, then closes. */
  async detach(timeoutMs = 2000): Promise<void> {
    if (this.closedError) return;
    const done = new Promise<void>((resolve) => (this.detachWaiter = resolve));
    this.send({ detach: true });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.close();
  }

  /** Closes the connection at once; the agent removes this client's hooks on EOF. */
  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.waitingSince = undefined;
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.trim()) this.dispatch(parseAgentMessage(line));
    }
  }

  private dispatch(msg: AgentMessage): void {
    if ('detached' in msg) {
      this.detachWaiter?.();
      return;
    }
    const id = 'id' in msg ? msg.id : undefined;
    const state = id !== undefined ? this.pending.get(id) : undefined;
    if ('error' in msg) {
      const err = new AgentCommandError(msg.error);
      if (state) this.finish(id!, state, err);
      else this.closedError = err; // refused connection: reported to every request
      return;
    }
    if (!state) return; // a late event of a request we already gave up on
    if ('event' in msg) {
      state.events.push({ event: msg.event, data: msg.data });
      state.wake?.();
    } else {
      state.endData = msg.data;
      state.cancelled = msg.cancelled === true;
      state.dropped = msg.dropped ?? 0;
      this.finish(id!, state);
    }
  }

  private finish(id: RequestId, state: Pending, error?: Error): void {
    this.pending.delete(id);
    state.done = true;
    state.error = error;
    state.wake?.();
  }

  private onClose(): void {
    const err = this.closedError ?? new AgentGoneError(`the connection to the agent in ${this.label} was closed`);
    this.closedError = err;
    for (const [id, state] of this.pending) this.finish(id, state, err);
    this.detachWaiter?.();
    this.resolveClosed(err);
  }
}

function openSocket(path: string, label: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new AgentGoneError(`timed out connecting to the agent in ${label} (${path})`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(connectError(e, path, label));
    });
  });
}

/** Turns a connect() failure into a user error that says what to do. */
export function connectError(e: NodeJS.ErrnoException, path: string, label: string): Error {
  switch (e.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new AgentGoneError(`no agent is running in ${label} (${path})`, 'attach first: `spyglass PID`', e.code);
    case 'EACCES':
    case 'EPERM':
      return new UserError(
        `permission denied opening the agent socket of ${label} (${path})`,
        'run spyglass as the same user as the target, or as root',
      );
    default:
      return new AgentGoneError(`cannot connect to the agent in ${label}: ${e.message}`, undefined, e.code);
  }
}
