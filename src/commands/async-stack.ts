// `stack -a` / `dump --async`: the asyncio tasks the agent found in the target
// (agent/spyglass_agent/commands/async_tasks.py), as text: per event loop, the thread
// running it, then its tasks as a tree of who awaits whom, each with its state, coroutine
// and await chain (outermost first, file:line and the source line).
import type { AgentSession } from '../channel/session.js';

export interface AsyncFrame {
  function: string;
  file: string | null;
  line: number | null;
  code: string | null;
}

export interface AsyncTask {
  id: string;
  name: string | null;
  state: 'pending' | 'waiting' | 'running' | 'done' | 'failed' | 'cancelled';
  coroutine: string | null;
  chain: AsyncFrame[];
  awaiting?: string;
  awaits: string[];
  awaited_by: string[];
  exception?: string;
  result_type?: string;
}

export interface AsyncLoop {
  id: string;
  type: string;
  running: boolean;
  closed: boolean;
  thread: { ident: number; name: string | null; native_id: number | null } | null;
  tasks: AsyncTask[];
}

export interface AsyncTasksAnswer {
  asyncio: boolean;
  loops?: AsyncLoop[];
  tasks?: number;
  searched_gc?: boolean;
  how?: string;
}

/** Asks the agent; its answer comes as a `loop` event per loop, then `tasks` events of that loop's tasks. */
export async function fetchAsyncTasks(agent: AgentSession): Promise<AsyncTasksAnswer> {
  const stream = agent.request('async_tasks', {});
  const loops: AsyncLoop[] = [];
  for await (const ev of stream) {
    if (ev.event === 'loop') loops.push({ ...(ev.data as Omit<AsyncLoop, 'tasks'>), tasks: [] });
    else if (ev.event === 'tasks') {
      const part = ev.data as { loop: string; tasks: AsyncTask[] };
      loops.find((l) => l.id === part.loop)?.tasks.push(...part.tasks);
    }
  }
  const end = stream.endData as AsyncTasksAnswer & { loops?: number };
  return end.asyncio ? { ...end, loops } : end;
}

function where(f: AsyncFrame): string {
  return f.file ? `${f.function} (${f.file}:${f.line})` : f.function;
}

function taskLine(t: AsyncTask): string {
  let text = `${t.name ?? t.id} [${t.state.toUpperCase()}] ${t.coroutine ?? '?'}`;
  if (t.exception) text += ` raised ${t.exception}`;
  if (t.result_type) text += ` -> ${t.result_type}`;
  if (t.awaiting && !t.awaits.length) text += `  awaits ${t.awaiting}`;
  return text;
}

function loopHeader(l: AsyncLoop): string {
  const thread = l.thread
    ? `running in thread ${l.thread.native_id ?? l.thread.ident} "${l.thread.name ?? '?'}"`
    : l.closed
      ? 'closed'
      : 'not running';
  return `Event loop ${l.id} (${l.type}) ${thread}: ${l.tasks.length} task${l.tasks.length === 1 ? '' : 's'}`;
}

/** The text of the answer: loops, then each loop's task tree with every task's await chain. */
export function renderAsyncTasks(pid: number, a: AsyncTasksAnswer): string {
  // the reference's heading and words, which scripts look for
  if (!a.asyncio)
    return `Async Coroutine/Task Stacks\nNo active coroutines/async tasks found: process ${pid} has not imported asyncio (no event loops, no tasks)\n`;
  const loops = a.loops ?? [];
  // the first line is the reference tool's heading, which scripts look for
  const out = [
    'Async Coroutine/Task Stacks',
    `Async tasks of process ${pid}: ${a.tasks ?? 0} in ${loops.length} event loop${loops.length === 1 ? '' : 's'} (${a.how})`,
  ];
  if (!loops.length) out.push('  no event loop has tasks');
  for (const l of loops) {
    out.push('', loopHeader(l));
    const byId = new Map(l.tasks.map((t) => [t.id, t]));
    const shown = new Set<string>();
    const walk = (t: AsyncTask, prefix: string, connector: string, childPrefix: string) => {
      out.push(`${prefix}${connector}${taskLine(t)}`);
      if (shown.has(t.id)) return; // awaited by two tasks: its subtree once
      shown.add(t.id);
      const detail = prefix + childPrefix;
      for (const f of t.chain) out.push(`${detail}    ${where(f)}${f.code ? `  ${f.code}` : ''}`);
      const kids = t.awaits.map((id) => byId.get(id)).filter((k): k is AsyncTask => k !== undefined);
      kids.forEach((k, i) => {
        const last = i === kids.length - 1;
        walk(k, detail, last ? '└─ ' : '├─ ', last ? '   ' : '│  ');
      });
    };
    // roots: tasks no task of this loop awaits (and any left over from a cycle)
    const roots = l.tasks.filter((t) => !t.awaited_by.some((id) => byId.has(id)));
    for (const t of [...roots, ...l.tasks]) if (!shown.has(t.id)) walk(t, '  ', '', '');
  }
  return out.join('\n') + '\n';
}
