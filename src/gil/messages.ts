// What the gilstat sampling worker and the shell side say to each other. The table rows
// use the reference tool's field names; times are nanoseconds, as in the reference.
import type { StackFrame } from './probe.js';

export interface GilWorkerConfig {
  pid: number;
  rateHz: number;
  reportEveryMs: number;
  takeMs?: number;
  holdMs?: number;
  /** SharedArrayBuffer(4): set to 1 (and notified) to stop */
  stop: SharedArrayBuffer;
}

export interface GilThreadRow {
  /** threading.get_ident() of the thread, as a decimal string */
  ident: string;
  tid?: number;
  thread_name: string;
  takecnt: number;
  hold_all: number;
  holdavg: number;
  take_all: number;
  takeavg: number;
  dropcnt: number;
  drop_all: number;
  dropavg: number;
}

export interface GilTable {
  type: 'table';
  /** the last table, sent when sampling stops */
  final: boolean;
  /** CLOCK_MONOTONIC ns (as decimal strings) of the first and latest sample */
  window: { start_ns: string; end_ns: string };
  /** wall clock (ms since the epoch) of the latest sample: the table's `time` */
  time_ms: number;
  samples: number;
  /** sampling rate achieved */
  rate_hz: number;
  /** changes of GIL holder counted by the interpreter (exact) */
  switches: number;
  /** changes of holder the sampling saw */
  switches_seen: number;
  /** time nobody held the GIL */
  free_ns: number;
  /** time between samples across which the GIL changed hands (the hold figures' error bound) */
  uncertain_ns: number;
  threads: GilThreadRow[];
}

export interface GilReport {
  type: 'report';
  kind: 'hold' | 'take';
  /** threading.get_ident() of the thread, as a decimal string */
  ident: string;
  thread_name: string;
  tid?: number;
  duration_ns: number;
  start_ns: string;
  /** wall clock (ms since the epoch) of the episode's start */
  time_ms: number;
  /** the threshold it went over */
  threshold_ns: number;
  /** the thread's Python stack when the episode went over the threshold, innermost first */
  stack: StackFrame[];
  stack_at_ns?: string;
  /** why stack is empty, when it is */
  stack_missing?: string;
  /** a long wait: the thread that held the GIL when the wait went over its threshold, and its stack then */
  holder?: { ident: string; thread_name: string; tid?: number; stack: StackFrame[] };
}

export type GilWorkerMessage =
  | { type: 'started'; version: string; gil: string; rate_hz: number }
  | GilTable
  | GilReport
  | { type: 'error'; message: string; hint?: string; user: boolean; stack?: string };
