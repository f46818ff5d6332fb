// The attach page's terminal: the shell of `spyglass PID` (shell/shell.ts) run in the
// server, its keystrokes and output carried over the page's WebSocket to xterm.js. It
// attaches only when the page asks (the button says that it injects the agent); when
// the page goes, the running command is stopped, the shell ends and the session detaches,
// which removes every hook it installed, as leaving the terminal shell does.
import { PassThrough, Writable } from 'node:stream';
import { attach, type AttachedSession } from '../attach/attach.js';
import { UserError, formatUserError } from '../errors.js';
import { createOutput } from '../shell/output.js';
import { runShell } from '../shell/shell.js';
import type { ServerMessage } from './protocol.js';

/** a shell that does not end this long after its input closed is left, and the session detached anyway */
const END_WAIT_MS = 3000;

/** What readline needs to see a terminal: a stream with a size that says it is a TTY. */
class TerminalOutput extends Writable {
  readonly isTTY = true;
  columns: number;
  rows: number;
  constructor(
    private readonly sink: (data: string) => void,
    cols: number,
    rows: number,
  ) {
    super({ decodeStrings: false });
    this.columns = cols;
    this.rows = rows;
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.sink(String(chunk));
    done();
  }
  resize(cols: number, rows: number): void {
    this.columns = cols;
    this.rows = rows;
    // readline redraws its line on its output's 'resize' event
    this.emit('resize');
  }
  getColorDepth(): number {
    return 8;
  }
  hasColors(): boolean {
    return true;
  }
}

export class TerminalSession {
  private readonly input = new PassThrough();
  private readonly output: TerminalOutput;
  private session?: AttachedSession;
  private shell?: Promise<void>;
  private closed = false;

  constructor(
    private readonly pid: number,
    private readonly send: (m: ServerMessage) => void,
    cols: number,
    rows: number,
  ) {
    this.output = new TerminalOutput((data) => this.send({ type: 'term-output', data }), cols, rows);
  }

  async open(): Promise<void> {
    this.session = await attach(this.pid);
    if (this.closed) {
      await this.session.detach();
      return;
    }
    const s = this.session;
    const stream = this.output as unknown as NodeJS.WritableStream & { isTTY: boolean };
    const out = createOutput({ json: false, color: true }, { stdout: stream, stderr: stream });
    out.note(`attached to process ${this.pid} (Python ${s.version}) in ${s.latencyMs} ms; \`help\` lists the commands, \`quit\` leaves`);
    this.shell = runShell({ pid: this.pid, agent: s.agent, out, lost: s.lost, input: this.input, output: stream, ownsProcess: false }).then(
      () => this.end('the shell ended'),
      (e: unknown) => this.end(e instanceof UserError ? formatUserError(e) : `the shell failed: ${(e as Error).message}`),
    );
  }

  write(data: string): void {
    if (!this.closed) this.input.write(data);
  }

  resize(cols: number, rows: number): void {
    this.output.resize(cols, rows);
  }

  private async end(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session?.detach();
    this.send({ type: 'term-closed', reason });
  }

  /** The page left: end the shell (Ctrl-C for a running command, then end of input) and detach. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.write('\x03');
    this.input.end();
    await Promise.race([this.shell, new Promise((r) => setTimeout(r, END_WAIT_MS))]);
    await this.session?.detach();
  }
}
