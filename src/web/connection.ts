// One page's WebSocket: the thread stacks it watches and the live profile it runs. When
// the page goes away (tab closed, navigated, network gone) everything it started stops.
import type { WebSocket } from 'ws';
import { UserError } from '../errors.js';
import { openReader, type PythonReader } from '../reader/reader.js';
import { stackDumpJson } from '../commands/render-stack.js';
import { LiveProfile } from './live-profile.js';
import { TerminalSession } from './terminal.js';
import { InsideCommands } from './inside.js';
import type { ProfileRegistry } from './profiles.js';
import type { WrittenFiles } from './written-files.js';
import type { ClientMessage, ServerMessage, Topic, WireThread } from './protocol.js';

const STACKS_MS = 1000;
/** a message bigger than this is not a page's request */
export const MAX_MESSAGE_BYTES = 64 * 1024;
const MAX_RATE = 1000;

interface StacksWatch {
  pid: number;
  reader: PythonReader;
  timer: ReturnType<typeof setInterval>;
}

export class Connection {
  private stacks?: StacksWatch;
  private live?: LiveProfile;
  private term?: TerminalSession;
  private inside?: InsideCommands;
  private insidePid?: number;
  /** the page has gone: what a request still in flight opens is closed at once */
  private closed = false;
  /** bumped by every stop: a watch whose reader opens after a later stop closes it */
  private stacksGeneration = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly registry: ProfileRegistry,
    private readonly written: WrittenFiles,
  ) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return this.fail('request', new UserError('binary messages are not understood'));
      let msg: ClientMessage;
      try {
        msg = JSON.parse(String(data)) as ClientMessage;
      } catch {
        return this.fail('request', new UserError('a message is not JSON'));
      }
      this.handle(msg).catch((e) => this.fail(topicOf(msg.op), e));
    });
    ws.on('close', () => void this.close());
  }

  private send(m: ServerMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(m));
  }

  private fail(topic: Topic, e: unknown): void {
    // a user's mistake is one line with its hint; a bug still shows its message, never a stack
    const err = e as Error;
    this.send({ type: 'error', topic, message: err?.message ?? String(e), ...(e instanceof UserError && e.hint ? { hint: e.hint } : {}) });
  }

  private async handle(m: ClientMessage): Promise<void> {
    switch (m.op) {
      case 'stacks':
        this.stopStacks();
        if (m.on) await this.watchStacks(checkPid(m.pid));
        return;
      case 'live-start': {
        await this.live?.close();
        const rate = m.rate ?? 100;
        if (!(rate > 0 && rate <= MAX_RATE)) throw new UserError(`the rate must be between 1 and ${MAX_RATE} Hz`);
        this.live = new LiveProfile({ pid: checkPid(m.pid), rate, gil: !!m.gil, idle: !!m.idle }, this.registry, (x) => this.send(x));
        try {
          await this.live.start();
        } catch (e) {
          await this.live.close();
          this.live = undefined;
          throw e;
        }
        return;
      }
      case 'live-pause':
        return this.live?.pause();
      case 'live-resume':
        return this.live?.resume();
      case 'live-reset':
        return this.live?.reset();
      case 'live-filter':
        return this.live?.reset({ gil: !!m.gil, idle: !!m.idle });
      case 'live-stop':
        await this.live?.close();
        this.live = undefined;
        return;
      case 'term-open': {
        await this.term?.close();
        const size = (n: unknown, fallback: number) => (typeof n === 'number' && n >= 10 && n <= 1000 ? Math.floor(n) : fallback);
        this.term = new TerminalSession(checkPid(m.pid), (x) => this.send(x), size(m.cols, 80), size(m.rows, 24));
        try {
          await this.term.open();
        } catch (e) {
          this.term = undefined;
          throw e;
        }
        return;
      }
      case 'term-input':
        if (typeof m.data === 'string') this.term?.write(m.data);
        return;
      case 'term-resize':
        if (typeof m.cols === 'number' && typeof m.rows === 'number' && m.cols >= 10 && m.rows >= 2)
          this.term?.resize(Math.floor(m.cols), Math.floor(m.rows));
        return;
      case 'term-close':
        await this.term?.close();
        this.term = undefined;
        return;
      case 'cmd-run': {
        const pid = checkPid(m.pid);
        if (typeof m.id !== 'number') throw new UserError('a command needs a numeric id');
        if (this.insidePid !== pid) {
          await this.inside?.close();
          // the page went while the last one closed: nothing may attach for it now
          if (this.closed) return;
          this.inside = new InsideCommands(pid, (x) => this.send(x), this.written);
          this.insidePid = pid;
        }
        this.inside?.run(m.id, String(m.name), m.words);
        return;
      }
      case 'cmd-stop':
        this.inside?.stop(m.id);
        return;
      default:
        throw new UserError(`unknown request ${JSON.stringify((m as { op?: unknown }).op)}`);
    }
  }

  private async watchStacks(pid: number): Promise<void> {
    const generation = this.stacksGeneration;
    const reader = await openReader(pid);
    if (this.closed || generation !== this.stacksGeneration) {
      reader.close();
      return;
    }
    const read = () => {
      try {
        const dump = stackDumpJson(reader.sample()) as { python: { version: string }; threads: WireThread[] };
        this.send({
          type: 'stacks',
          pid,
          python: dump.python.version,
          threads: dump.threads.map((t) => ({ tid: t.tid, name: t.name, state: t.state, frames: t.frames })),
        });
      } catch (e) {
        // the process went or is no longer ours: say so once; anything else (a read that
        // raced the target) is retried at the next second
        if (!(e instanceof UserError)) return;
        this.stopStacks();
        this.fail('stacks', e);
      }
    };
    this.stacks = { pid, reader, timer: setInterval(read, STACKS_MS) };
    read();
  }

  private stopStacks(): void {
    this.stacksGeneration++;
    if (!this.stacks) return;
    clearInterval(this.stacks.timer);
    this.stacks.reader.close();
    this.stacks = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopStacks();
    await Promise.all([this.live?.close(), this.term?.close(), this.inside?.close()]);
    this.live = undefined;
    this.term = undefined;
    this.inside = undefined;
  }
}

function topicOf(op: string | undefined): Topic {
  if (op === 'stacks') return 'stacks';
  if (op?.startsWith('term-')) return 'term';
  if (op?.startsWith('cmd-')) return 'cmd';
  return 'live';
}

function checkPid(pid: unknown): number {
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) throw new UserError(`not a process id: ${JSON.stringify(pid)}`);
  return pid;
}
