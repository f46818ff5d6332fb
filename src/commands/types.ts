// The shape the shell runs: a ShellCommand. Most are made from a command model
// (model.ts: parse, execute, views; docs/command-model.md), which the web page runs too;
// the interactive shell, one-shot mode (`spyglass PID --cmd "..."`) and the page call the
// same modules, and none of them formats output on its own.
import type { AgentSession } from '../channel/session.js';
import type { OptionSpec, Words } from './args.js';

/** Where a command writes its results: text for people, or one JSON value per line. */
export interface CommandOutput {
  readonly json: boolean;
  readonly color: boolean;
  /** a line of human text (ignored in --json mode) */
  line(text: string): void;
  /** one JSON value (printed as one line in --json mode; ignored otherwise) */
  record(value: unknown): void;
  /** progress/notes for people: stderr, never in --json stdout */
  note(text: string): void;
  /** clears the terminal (`cls`); absent or a no-op when stdout is not a terminal */
  clearScreen?(): void;
  /** columns to wrap help text to (help-text.ts); 80 when not given */
  readonly width?: number;
}

export interface CommandContext {
  pid: number;
  agent: AgentSession;
  out: CommandOutput;
  /** aborted on Ctrl-C or when a one-shot --timeout expires */
  signal: AbortSignal;
  /** the user's working directory: files the command writes go here */
  cwd: string;
  /** the interactive terminal's input, for commands that talk back (console); undefined in one-shot mode */
  interactive?: {
    /** one line typed by the user (undefined on Ctrl-D); `complete` offers Tab completions for the line so far */
    question(prompt: string, opts?: { complete?: (line: string) => Promise<string[]> }): Promise<string | undefined>;
    /**
     * Ctrl-C while the command runs goes to handler instead of aborting `signal` (console: stop
     * the statement, stay in the console). Returns the function that removes the handler.
     */
    onInterrupt?(handler: () => void): () => void;
    /** forgets the lines the prompt recalls with the arrow keys (`history -c`) */
    clearHistory?(): void;
  };
}

export interface ShellCommand {
  name: string;
  /** one sentence; like every help text a plain paragraph, never hard-wrapped: help-text.ts wraps it to the terminal */
  summary: string;
  /** optional longer help (how the command works, what its figures mean), shown by `help NAME` after the summary; paragraphs apart by a blank line */
  description?: string;
  /** e.g. 'watch module [class] method [--expr <value>] [-n <value>] ...' */
  usage: string;
  examples: Array<{ command: string; comment: string }>;
  options: OptionSpec[];
  /** parses words after the command name and runs it; throws UsageError on bad grammar */
  run(ctx: CommandContext, words: Words): Promise<void>;
  /** completion candidates for the word being typed, beyond option names (module/class names...) */
  complete?(ctx: CommandContext, words: string[], current: string): Promise<string[]>;
}
