// --subprocesses: the descendants of a process, found from the ppid field of every
// /proc/PID/stat (a child forked or spawned later is found by the next call).
import { readFileSync } from 'node:fs';
import { listPids, parseStat } from '../proc/process.js';

/** pids of every live descendant of root (children, grandchildren, ...), root excluded. */
export function descendants(root: number): number[] {
  const kids = new Map<number, number[]>();
  for (const pid of listPids()) {
    let ppid: number;
    try {
      ppid = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).ppid;
    } catch {
      continue; // exited while we looked
    }
    let list = kids.get(ppid);
    if (!list) kids.set(ppid, (list = []));
    list.push(pid);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const c of kids.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}
