// The attach page's forms: commands run for the page on the command model
// (docs/command-model.md): the same parse and execute as the shell, each result sent to
// the page as it comes, where it is drawn as rows, call trees and value trees. The page
// sends the words a command line would hold (built from its form, never a string to
// split). The session attaches at the first command; when the page goes, every running
// command is stopped and the session detaches, which removes every hook it installed.
import { attach, type AttachedSession } from '../attach/attach.js';
import { findModel } from '../commands/registry.js';
import { isProgress } from '../commands/model.js';
import { UserError } from '../errors.js';
import type { ServerMessage } from './protocol.js';
import type { WrittenFiles } from './written-files.js';

/** a command still running this long after the page asked it to stop is left to the detach */
const STOP_WAIT_MS = 3000;
/** how many commands one page may run at once */
const MAX_RUNNING = 8;

export class InsideCommands {
  private session?: Promise<AttachedSession>;
  private readonly running = new Map<number, { stop: AbortController; done: Promise<void> }>();
  private closed = false;

  constructor(
    private readonly pid: number,
    private readonly send: (m: ServerMessage) => void,
    private readonly written: WrittenFiles,
  ) {}

  /** Runs `name words...` as request `id` of the page; its results, progress and end go to the page. */
  run(id: number, name: string, words: string[]): void {
    if (this.closed) return;
    if (this.running.has(id)) throw new UserError(`command ${id} is already running`);
    const refuse = (message: string, hint?: string) => this.send({ type: 'cmd-end', id, error: message, ...(hint ? { hint } : {}) });
    if (this.running.size >= MAX_RUNNING) {
      refuse(`at most ${MAX_RUNNING} commands at once`, 'stop one first');
      return;
    }
    const model = findModel(name);
    if (!model) {
      refuse(`the page cannot run ${JSON.stringify(name)}`, 'the terminal below runs every command');
      return;
    }
    if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) {
      refuse('the words of a command must be strings');
      return;
    }
    const stop = new AbortController();
    const done = this.execute(id, model, words, stop.signal).finally(() => this.running.delete(id));
    this.running.set(id, { stop, done });
  }

  private async execute(id: number, model: NonNullable<ReturnType<typeof findModel>>, words: string[], signal: AbortSignal) {
    try {
      const request = model.parse(words, { pid: this.pid, cwd: process.cwd() });
      if (!this.session) {
        const attaching = attach(this.pid);
        this.session = attaching;
        // a failed attach is said once; the next command tries again
        attaching.catch(() => {
          if (this.session === attaching) this.session = undefined;
        });
      }
      const session = await this.session;
      if (signal.aborted) return;
      const ctx = { pid: this.pid, agent: session.agent, signal, cwd: process.cwd(), terminal: false };
      for await (const step of model.execute(ctx, request)) {
        if (isProgress(step)) this.send({ type: 'cmd-progress', id, text: step.progress });
        else this.send({ type: 'cmd-result', id, kind: step.kind, data: step.data, ...this.downloadOf(model.name, step.kind, step.data) });
      }
      this.send({ type: 'cmd-end', id });
    } catch (e) {
      const err = e as Error;
      this.send({ type: 'cmd-end', id, error: err?.message ?? String(e), ...(e instanceof UserError && e.hint ? { hint: e.hint } : {}) });
    }
  }

  /** torch's file, written where the server runs, is offered to the page to download */
  private downloadOf(name: string, kind: string, data: unknown): { download?: string } {
    const path = (data as { path?: unknown }).path;
    if (name !== 'torch' || kind !== 'file' || typeof path !== 'string') return {};
    return { download: `/api/files/${this.written.add(path)}` };
  }

  stop(id: number): void {
    this.running.get(id)?.stop.abort();
  }

  /** The page went: stop every command, then detach (the agent removes this session's hooks). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.running.values()];
    for (const r of all) r.stop.abort();
    await Promise.race([Promise.all(all.map((r) => r.done)), new Promise((r) => setTimeout(r, STOP_WAIT_MS))]);
    const session = await this.session?.catch(() => undefined);
    this.session = undefined;
    await session?.detach();
  }
}
