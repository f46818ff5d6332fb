// The messages between the web page and the server over the WebSocket, declared once
// for both sides (the page imports this file too). JSON only.
import type { StackTable } from './stack-table.js';

export type ClientMessage =
  /** thread stacks of pid every second while on */
  | { op: 'stacks'; pid: number; on: boolean }
  | { op: 'live-start'; pid: number; rate?: number; gil?: boolean; idle?: boolean }
  | { op: 'live-pause' }
  | { op: 'live-resume' }
  /** drops what was aggregated so far and goes on */
  | { op: 'live-reset' }
  /** changes which samples count; the aggregate starts again */
  | { op: 'live-filter'; gil: boolean; idle: boolean }
  | { op: 'live-stop' }
  /** attaches (injects the agent) and opens the shell in a terminal of this size */
  | { op: 'term-open'; pid: number; cols: number; rows: number }
  /** keystrokes, as the terminal sends them */
  | { op: 'term-input'; data: string }
  | { op: 'term-resize'; cols: number; rows: number }
  /** leaves the shell and detaches: every hook it installed is removed */
  | { op: 'term-close' }
  /** runs a command of the attach page's forms (src/web/inside.ts): its name and the words after it */
  | { op: 'cmd-run'; pid: number; id: number; name: string; words: string[] }
  | { op: 'cmd-stop'; id: number };

export type Topic = 'stacks' | 'live' | 'term' | 'cmd' | 'request';

export interface WireFrame {
  name: string;
  filename: string;
  line: number;
}

export interface WireThread {
  tid: number | null;
  name: string | null;
  /** idle / active / holds-gil */
  state: string;
  frames: WireFrame[];
}

export type ServerMessage =
  | { type: 'stacks'; pid: number; python: string; threads: WireThread[] }
  | {
      type: 'live';
      profileId: string;
      table: StackTable;
      ticks: number;
      errors: number;
      elapsed: number;
      paused: boolean;
      gil: boolean;
      idle: boolean;
      window: LiveWindow;
      formats: readonly string[];
    }
  | { type: 'live-ended'; reason: string }
  | { type: 'term-output'; data: string }
  | { type: 'term-closed'; reason: string }
  /** one result of a form's command: `data` is what --json prints, `kind` its shape (src/commands/model.ts) */
  /** download: where the page fetches a file the command wrote (src/web/written-files.ts) */
  | { type: 'cmd-result'; id: number; kind: string; data: unknown; download?: string }
  | { type: 'cmd-progress'; id: number; text: string }
  /** the command ended: by itself, stopped, or with an error */
  | { type: 'cmd-end'; id: number; error?: string; hint?: string }
  | { type: 'error'; message: string; hint?: string; topic: Topic };

/** What one refresh interval (about a second) of sampling saw. */
export interface LiveWindow {
  /** seconds since the live profile started */
  at: number;
  ticks: number;
  /** % of sampling instants at which some thread held the GIL */
  gilPct: number;
  /** % of instants each thread held it: label → % */
  holders: Record<string, number>;
}
