// The processes page's rows: `spyglass ps`'s list (reader/processes.ts) plus what /proc
// tells about each process's load: CPU% since the previous listing, resident memory and
// thread count.
import { readFileSync } from 'node:fs';
import { listPythonProcesses, type PythonProcess } from '../reader/processes.js';
import { parseStat } from '../proc/process.js';

export interface ProcessRow extends PythonProcess {
  /** CPU time as a share of one core since the previous listing (or since the process started) */
  cpuPct: number | null;
  rssBytes: number | null;
  threads: number | null;
}

/** Linux's USER_HZ and page size on x86_64 (the only platform spyglass runs on). */
const CLOCK_TICKS = 100;
const PAGE_BYTES = 4096;

function uptimeSeconds(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}

export class ProcessLister {
  /** pid → [cpu ticks, seconds since boot] at the previous listing */
  private last = new Map<number, [number, number]>();

  list(): ProcessRow[] {
    const now = uptimeSeconds();
    const seen = new Map<number, [number, number]>();
    const rows = listPythonProcesses().map((p): ProcessRow => {
      try {
        const st = parseStat(readFileSync(`/proc/${p.pid}/stat`, 'utf8'));
        const ticks = st.utime + st.stime;
        const prev = this.last.get(p.pid) ?? [0, Number(st.fields[19]) / CLOCK_TICKS];
        seen.set(p.pid, [ticks, now]);
        const span = now - prev[1];
        return {
          ...p,
          cpuPct: span > 0 ? (100 * (ticks - prev[0])) / CLOCK_TICKS / span : null,
          threads: Number(st.fields[17]),
          rssBytes: Number(st.fields[21]) * PAGE_BYTES,
        };
      } catch {
        return { ...p, cpuPct: null, threads: null, rssBytes: null };
      }
    });
    this.last = seen;
    return rows;
  }
}
