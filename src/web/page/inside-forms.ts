// The attach page's forms for watch, trace, monitor, tt, getglobal, vmtool, mem, gilstat
// and torch: each form builds the words of a command line (never a string the server would split), the
// server runs the command on the command model (src/web/inside.ts) and its results come
// back as the objects --json prints, drawn here as table rows, call trees and value trees.
import type { TraceNode, TraceResults } from '../../commands/trace.js';
import type { ShownValue, TtResults, TtSummary } from '../../commands/tt.js';
import type { WatchResults } from '../../commands/watch.js';
import type { MemResults } from '../../commands/mem.js';
import type { MonitorResults } from '../../commands/monitor.js';
import type { GetglobalAnswer } from '../../commands/getglobal.js';
import type { VmtoolResults } from '../../commands/vmtool.js';
import type { GilstatResults } from '../../commands/gilstat.js';
import type { TorchResults } from '../../commands/torch.js';
import type { ServerMessage } from '../protocol.js';
import { download, type Socket } from './api.js';
import { h } from './dom.js';
import { valueTree } from './value-tree.js';

interface Field {
  key: string;
  label: string;
  value?: string;
  placeholder?: string;
  choices?: string[];
  width?: number;
}

interface FormSpec {
  name: 'watch' | 'trace' | 'monitor' | 'tt' | 'getglobal' | 'vmtool' | 'mem' | 'gilstat' | 'torch';
  fields: Field[];
  /** the words after the command name, from the fields' values */
  words(v: Record<string, string>): string[];
  /** a fresh drawing of one run's results into `out`; `download`: where the server serves a file the result names */
  draw(out: HTMLElement, run: (name: string, words: string[]) => void): (kind: string, data: unknown, download?: string) => void;
}

/** `module [class] method` from three fields, the class left out when empty */
function target(v: Record<string, string>): string[] {
  return [v.module, v.cls, v.method].map((w) => w.trim()).filter(Boolean);
}

function opt(flag: string, value: string | undefined): string[] {
  return value?.trim() ? [flag, value.trim()] : [];
}

const time = (t: number) =>
  new Date(t * 1000).toLocaleTimeString(undefined, { hour12: false }) + `.${String(Math.floor((t % 1) * 1000)).padStart(3, '0')}`;
const ms = (v: number | undefined) => (v === undefined ? '' : v >= 100 ? v.toFixed(1) : v >= 1 ? v.toFixed(3) : v.toFixed(4));

function table(headers: string[]): { table: HTMLTableElement; body: HTMLTableSectionElement } {
  const body = h('tbody');
  return { table: h('table', { class: 'results' }, h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', {}, x)))), body), body };
}

const METHOD_FIELDS: Field[] = [
  { key: 'module', label: 'module', value: '__main__', width: 12 },
  { key: 'cls', label: 'class', placeholder: '(none)', width: 10 },
  { key: 'method', label: 'method', width: 14 },
];

const watchForm: FormSpec = {
  name: 'watch',
  fields: [
    ...METHOD_FIELDS,
    { key: 'expr', label: '--expr', value: 'args,kwargs', width: 16 },
    { key: 'filter', label: '-f', placeholder: 'cost>10', width: 14 },
    { key: 'limit', label: '-n', value: '10', width: 4 },
    { key: 'expand', label: '-x', value: '2', width: 3 },
  ],
  words: (v) => [...target(v), ...opt('--expr', v.expr), ...opt('-f', v.filter), ...opt('-n', v.limit), ...opt('-x', v.expand)],
  draw(out) {
    const { table: t, body } = table(['time', 'method', 'thread', 'cost (ms)', 'outcome', 'values']);
    out.append(t);
    return (kind, data) => {
      if (kind !== 'call') return;
      const c = data as WatchResults['call'];
      const values = h(
        'td',
        { class: 'values' },
        ...(c.values ?? []).map((v) =>
          v.error !== undefined ? h('div', { class: 'v-error' }, `${v.expr}: ${v.error}`) : valueTree(v.value!, v.expr),
        ),
        c.filter_error ? h('div', { class: 'v-error' }, `-f ${c.filter_error.expr}: ${c.filter_error.error}`) : null,
        c.exception
          ? h('details', {}, h('summary', {}, `${c.exception.type}: ${c.exception.message}`), h('pre', {}, c.exception.traceback))
          : null,
      );
      body.append(
        h(
          'tr',
          { class: 'call' },
          h('td', {}, time(c.time)),
          h('td', { class: 'fn' }, c.method),
          h('td', {}, c.thread),
          h('td', { class: 'num' }, ms(c.cost_ms)),
          h('td', {}, c.exception ? `raised ${c.exception.type}` : 'returned'),
          values,
        ),
      );
    };
  },
};

function traceTree(node: TraceNode, parent?: TraceNode): HTMLElement {
  const pct = parent && parent.cost_ms > 0 ? ` ${((node.cost_ms / parent.cost_ms) * 100).toFixed(1)}%` : '';
  const count = node.count > 1 ? ` ×${node.count} (max ${ms(node.max_ms)} ms)` : '';
  const where = node.file ? (node.line > 0 ? `${node.file}:${node.line}` : node.file) : '';
  const notes = [
    node.task ? (node.unfinished ? 'another task, still running' : 'another task') : '',
    node.suspended_ms ? `suspended ${ms(node.suspended_ms)} ms` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const label = h(
    'span',
    { class: 'tn' },
    h('span', { class: 'tn-cost' }, `[${ms(node.cost_ms)} ms${pct}]`),
    ' ',
    h('span', { class: `tn-name fn tn-${node.kind}` }, node.name),
    count,
    ' ',
    h('span', { class: 'muted' }, where),
    notes ? h('span', { class: 'muted' }, ` (${notes})`) : null,
  );
  if (!node.children.length) return h('li', { class: 'trace-leaf' }, label);
  return h('li', {}, h('details', { open: true }, h('summary', {}, label), h('ul', {}, ...node.children.map((c) => traceTree(c, node)))));
}

/** what a trace's recording lacks, said under its tree so that it never passes for whole */
function incomplete(cut: NonNullable<TraceResults['trace']['truncated']>): string {
  const parts: string[] = [];
  if (cut.over_budget) parts.push(`${cut.over_budget} call(s) past the recorder's budget not recorded`);
  if (cut.below_depth) parts.push(`${cut.below_depth} call(s) below -d not shown`);
  if (cut.error) parts.push(cut.error);
  return parts.join('; ');
}

const traceForm: FormSpec = {
  name: 'trace',
  fields: [
    ...METHOD_FIELDS,
    { key: 'interval', label: '-i (ms)', value: '0.1', width: 4 },
    { key: 'depth', label: '-d', width: 3 },
    { key: 'limit', label: '-n', value: '5', width: 4 },
  ],
  words: (v) => [...target(v), ...opt('-i', v.interval), ...opt('-d', v.depth), ...opt('-n', v.limit)],
  draw(out) {
    return (kind, data) => {
      if (kind !== 'trace') return;
      const t = data as TraceResults['trace'];
      const head = `${time(t.time)}  ${t.method}  thread=${t.thread}`;
      if (t.filter_error || t.unavailable) {
        out.append(
          h(
            'div',
            { class: 'trace-call' },
            head,
            h('div', { class: 'v-error' }, t.unavailable ?? `-f ${t.filter_error!.expr} raised ${t.filter_error!.error}`),
          ),
        );
        return;
      }
      out.append(
        h(
          'div',
          { class: 'trace-call' },
          h('div', { class: 'trace-head' }, `${head}  cost=${ms(t.cost_ms)} ms${t.exception ? `  raised ${t.exception.message}` : ''}`),
          h('ul', { class: 'trace-tree' }, traceTree(t.tree!)),
          t.truncated ? h('div', { class: 'muted' }, `incomplete: ${incomplete(t.truncated)}`) : null,
        ),
      );
    };
  },
};

const monitorForm: FormSpec = {
  name: 'monitor',
  fields: [...METHOD_FIELDS, { key: 'cycle', label: '-c (s)', value: '5', width: 4 }, { key: 'cycles', label: '-n', width: 4 }],
  words: (v) => [...target(v), ...opt('-c', v.cycle), ...opt('-n', v.cycles)],
  draw(out) {
    const { table: t, body } = table(['time', 'method', 'calls', 'success', 'fail', 'fail rate', 'avg', 'min', 'max', 'p50', 'p99 (ms)']);
    out.append(t);
    const num = (v: number | null) => (v === null ? '-' : v.toFixed(3));
    return (kind, data) => {
      if (kind !== 'cycle') return;
      const c = data as MonitorResults['cycle'];
      const cells = [
        c.calls,
        c.success,
        c.failure,
        `${(c.failure_rate * 100).toFixed(2)}%`,
        ...[c.avg_ms, c.min_ms, c.max_ms, c.p50_ms, c.p99_ms].map(num),
      ];
      body.append(
        h(
          'tr',
          { class: 'cycle' },
          h('td', {}, time(c.time)),
          h('td', { class: 'fn' }, c.method),
          ...cells.map((x) => h('td', { class: 'num' }, String(x))),
        ),
      );
    };
  },
};

const ttForm: FormSpec = {
  name: 'tt',
  fields: [
    { key: 'mode', label: 'action', value: 'record (-t)', choices: ['record (-t)', 'list (-l)', 'show (-i)', 'replay (-i -p)'] },
    ...METHOD_FIELDS,
    { key: 'index', label: '-i', width: 6 },
    { key: 'limit', label: '-n', value: '10', width: 4 },
    { key: 'expand', label: '-x', value: '2', width: 3 },
  ],
  words(v) {
    if (v.mode.startsWith('record')) return ['-t', ...target(v), ...opt('-n', v.limit)];
    if (v.mode.startsWith('list')) return ['-l'];
    return ['-i', v.index.trim(), ...opt('-x', v.expand), ...(v.mode.startsWith('replay') ? ['-p'] : [])];
  },
  draw(out, run) {
    let rows: HTMLTableSectionElement | undefined;
    const addRow = (s: TtSummary) => {
      if (!rows) {
        const t = table(['index', 'time', 'cost (ms)', 'outcome', 'method', 'args', 'result', '']);
        out.append(t.table);
        rows = t.body;
      }
      rows.append(
        h(
          'tr',
          { class: 'tt-record', 'data-index': s.index },
          h('td', { class: 'num' }, s.index),
          h('td', {}, time(s.timestamp)),
          h('td', { class: 'num' }, s.cost_ms.toFixed(3)),
          h('td', {}, s.is_exception ? 'raised' : 'returned'),
          h('td', { class: 'fn' }, s.method + (s.replay_of ? ` (replay of ${s.replay_of})` : '')),
          h('td', { class: 'fn' }, s.kwargs ? `${s.args} ${s.kwargs}` : s.args),
          h('td', { class: 'fn' }, s.result),
          h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => run('tt', ['-i', String(s.index), '-x', '2']) }, 'show')),
        ),
      );
    };
    return (kind, data) => {
      if (kind === 'record') addRow(data as TtSummary);
      else if (kind === 'list') {
        const l = data as TtResults['list'];
        if (!l.records.length) out.append(h('p', { class: 'muted' }, 'no records'));
        l.records.forEach(addRow);
      } else if (kind === 'notice') out.append(h('p', { class: 'muted' }, (data as TtResults['notice']).notice));
      else if (kind === 'detail') {
        const d = data as TtResults['detail'];
        const value = (label: string, v: ShownValue) => valueTree(v.value, label);
        out.append(
          h(
            'div',
            { class: 'tt-detail' },
            h(
              'h4',
              {},
              `record ${d.index}: ${d.method}${d.replay_of ? ` (replay of ${d.replay_of})` : ''}, ${d.cost_ms.toFixed(3)} ms, thread ${d.thread}`,
            ),
            ...d.args.map((a) => value(a.name, a)),
            ...d.kwargs.map((a) => value(a.name, a)),
            d.result ? value('return', d.result) : null,
            d.exception
              ? h('details', {}, h('summary', {}, `${d.exception.type}: ${d.exception.message}`), h('pre', {}, d.exception.traceback))
              : null,
          ),
        );
      } else if (kind === 'deleted' || kind === 'deleted_all') out.append(h('p', {}, JSON.stringify(data)));
    };
  },
};

const EXPAND_FIELD: Field = { key: 'expand', label: '-x', value: '2', width: 3 };

const getglobalForm: FormSpec = {
  name: 'getglobal',
  fields: [
    { key: 'module', label: 'module', value: '__main__', width: 12 },
    { key: 'cls', label: 'class', placeholder: '(none)', width: 10 },
    { key: 'field', label: 'field', width: 14 },
    { key: 'expr', label: '-e', placeholder: 'target.x', width: 14 },
    EXPAND_FIELD,
  ],
  words: (v) => [...[v.module, v.cls, v.field].map((w) => w.trim()).filter(Boolean), ...opt('-e', v.expr), ...opt('-x', v.expand)],
  draw(out) {
    return (_kind, data) => {
      const a = data as GetglobalAnswer;
      const name = [a.module, a.cls, a.field].filter(Boolean).join('.');
      out.append(h('div', { class: 'getglobal-value' }, valueTree(a.value, a.expr ? `${name} -e ${a.expr}` : name)));
    };
  },
};

const vmtoolForm: FormSpec = {
  name: 'vmtool',
  fields: [
    { key: 'action', label: '-a', value: 'getInstances', choices: ['getInstances', 'forceGc'] },
    { key: 'module', label: '-c module', width: 12 },
    { key: 'cls', label: 'class', width: 10 },
    { key: 'expr', label: '-e', placeholder: 'instances[0]', width: 14 },
    { key: 'limit', label: '-n', value: '10', width: 4 },
    EXPAND_FIELD,
  ],
  words(v) {
    if (v.action === 'forceGc') return ['-a', 'forceGc'];
    return ['-a', 'getInstances', '-c', v.module.trim(), v.cls.trim(), ...opt('-e', v.expr), ...opt('-n', v.limit), ...opt('-x', v.expand)];
  },
  draw(out) {
    return (kind, data) => {
      if (kind === 'instances') {
        const a = data as VmtoolResults['instances'];
        const sub = a.subclass_instances ? ` (${a.subclass_instances} of subclasses)` : '';
        const shown = a.instances ?? [];
        const more = !a.value && shown.length < a.total ? `, showing ${shown.length} (-n -1 for all)` : '';
        out.append(h('p', { class: 'vm-total' }, `${a.total} instance${a.total === 1 ? '' : 's'} of ${a.type}${sub}${more}`));
        if (a.value) out.append(valueTree(a.value, `-e ${a.expr}`));
        shown.forEach((inst, i) => out.append(valueTree(inst.value, inst.subclass ? `[${i}] subclass ${inst.subclass}` : `[${i}]`)));
      } else if (kind === 'gc') {
        const g = data as VmtoolResults['gc'];
        const t = table(['generation', 'collected', 'ms']);
        for (const gen of g.generations)
          t.body.append(
            h(
              'tr',
              { class: 'gc-gen' },
              h('td', { class: 'num' }, gen.generation),
              h('td', { class: 'num' }, gen.collected),
              h('td', { class: 'num' }, gen.ms.toFixed(2)),
            ),
          );
        out.append(
          h(
            'p',
            { class: 'gc-total' },
            `full collection: ${g.collected} collected in ${g.ms.toFixed(2)} ms, ${g.uncollectable} uncollectable; ` +
              `counts before ${g.counts_before.join('/')}, after ${g.counts_after.join('/')}` +
              (g.enabled ? '' : ' (automatic collection is disabled in the target)'),
          ),
          t.table,
        );
      }
    };
  },
};

const bytes = (n: number) => {
  const a = Math.abs(n);
  const text = a < 1024 ? `${a} B` : a < 1048576 ? `${(a / 1024).toFixed(1)} KiB` : `${(a / 1048576).toFixed(1)} MiB`;
  return n < 0 ? `-${text}` : text;
};
const signed = (n: number, f: (n: number) => string = String) => (n > 0 ? '+' : '') + f(n);

const memForm: FormSpec = {
  name: 'mem',
  fields: [
    { key: 'action', label: 'action', value: 'summary', choices: ['summary', 'diff', 'top', 'refs'] },
    { key: 'limit', label: '--limit', value: '15', width: 4 },
    { key: 'interval', label: '--interval (s)', placeholder: 'diff 15, top 10', width: 6 },
    { key: 'module', label: 'refs: module', width: 10 },
    { key: 'cls', label: 'class', width: 10 },
  ],
  words(v) {
    if (v.action === 'refs') return ['refs', v.module.trim(), v.cls.trim()];
    return [v.action, ...opt('--limit', v.limit), ...(v.action === 'summary' ? [] : opt('--interval', v.interval))];
  },
  draw(out) {
    const rowsOf = (headers: string[], rows: Array<Array<string | number>>) => {
      const t = table(headers);
      for (const r of rows) t.body.append(h('tr', {}, ...r.map((c) => h('td', { class: typeof c === 'number' ? 'num' : '' }, c))));
      out.append(t.table);
    };
    return (kind, data) => {
      if (kind === 'summary') {
        const a = data as MemResults['summary'];
        rowsOf(
          ['type', 'count', 'size'],
          a.rows.map((r) => [r.type, r.count, bytes(r.size)]),
        );
        out.append(h('p', { class: 'muted' }, `${a.total_count} objects of ${a.types} types, ${bytes(a.total_size)}`));
      } else if (kind === 'diff') {
        const a = data as MemResults['diff'];
        if (a.cancelled) return;
        rowsOf(
          ['type', 'count', 'Δcount', 'size', 'Δsize'],
          a.rows.map((r) => [r.type, r.count, signed(r.count_delta), bytes(r.size), signed(r.size_delta, bytes)]),
        );
      } else if (kind === 'top') {
        const a = data as MemResults['top'];
        rowsOf(
          ['where', 'code', 'Δsize', 'Δblocks'],
          a.rows.map((r) => [`${r.file}:${r.line}`, r.code, signed(r.size_delta, bytes), signed(r.count_delta)]),
        );
      } else if (kind === 'refs') {
        const a = data as MemResults['refs'];
        out.append(h('p', {}, `${a.instances} live instance(s) of ${a.type}; what keeps one alive, root first:`));
        out.append(
          h(
            'ol',
            { class: 'refs' },
            ...a.chain.map((s) => h('li', { class: 'fn' }, `${s.repr}  <${s.type}>${s.edge ? `  ${s.edge.trim()} →` : ''}`)),
          ),
        );
        if (!a.root) out.append(h('p', { class: 'muted' }, `root not found: ${a.reason}`));
      }
    };
  },
};

const GIL_COLUMNS = ['takecnt', 'hold_all', 'holdavg', 'take_all', 'takeavg', 'dropcnt', 'drop_all', 'dropavg'] as const;
const pct = (part: number, whole: number) => (whole ? ((100 * part) / whole).toFixed(1) : '0.0');

const gilstatForm: FormSpec = {
  name: 'gilstat',
  fields: [
    { key: 'action', label: 'action', value: 'on', choices: ['on', 'off'] },
    { key: 'take', label: 'take_ms', value: '10', width: 4 },
    { key: 'hold', label: 'hold_ms', value: '10', width: 4 },
    { key: 'interval', label: 'interval_s', value: '2', width: 4 },
    { key: 'threads', label: 'max_threads', value: '20', width: 4 },
  ],
  // `on` reads its numbers by position (as the reference does): all four are sent
  words: (v) => (v.action === 'off' ? ['off'] : ['on', v.take.trim(), v.hold.trim(), v.interval.trim(), v.threads.trim()]),
  draw(out) {
    // the table is redrawn in place at every interval; long holds and waits accumulate below it
    const head = h('p', { class: 'gil-head muted' });
    const threads = table(['thread_id', 'thread_name', ...GIL_COLUMNS, 'hold%']);
    const reports = table(['time', 'thread', 'event', 'cost (ms)', 'threshold (ms)', 'stack, innermost first']);
    let tables = 0;
    return (kind, data) => {
      if (kind === 'started') {
        const a = data as GilstatResults['started'];
        out.append(
          h('p', { class: 'muted' }, `Python ${a.version}, GIL at ${a.gil}, sampled from outside at ~${a.rate_hz} Hz`),
          head,
          threads.table,
        );
      } else if (kind === 'table') {
        const t = data as GilstatResults['table'];
        const span = Number(BigInt(t.window.end_ns) - BigInt(t.window.start_ns));
        head.textContent =
          `${new Date(t.time_ms).toLocaleTimeString(undefined, { hour12: false })}: ${(span / 1e9).toFixed(1)} s, ${t.samples} samples ` +
          `(estimates; times in ns), GIL switches ${t.switches}, free ${pct(t.free_ns, span)}%, hold times within ±${pct(t.uncertain_ns, span)}%` +
          (t.threads_omitted ? `; ${t.threads_omitted} more thread(s) not shown` : '') +
          (t.final ? ' (final)' : '');
        threads.table.dataset.tables = String(++tables);
        threads.body.replaceChildren(
          ...t.threads.map((r) =>
            h(
              'tr',
              { class: 'gil-thread' },
              h('td', {}, /^\d+$/.test(r.ident) ? BigInt(r.ident).toString(16) : r.ident),
              h('td', { class: 'fn' }, r.thread_name),
              ...GIL_COLUMNS.map((c) => h('td', { class: 'num' }, String(Math.round(r[c])))),
              h('td', { class: 'num' }, pct(r.hold_all, span)),
            ),
          ),
        );
      } else if (kind === 'report') {
        const r = data as GilstatResults['report'];
        if (!reports.body.childElementCount) out.append(h('h4', {}, 'long holds and waits'), reports.table);
        // a long wait shows the stack of the thread that held the GIL meanwhile
        const who = r.kind === 'take' && r.holder ? r.holder : r;
        const stack = who.stack.length
          ? h(
              'details',
              {},
              h('summary', { class: 'fn' }, `${who === r ? '' : `holder ${who.thread_name}: `}${who.stack[0].name}`),
              h('ol', { class: 'gil-stack' }, ...who.stack.map((f) => h('li', { class: 'fn' }, `${f.name}  ${f.filename}:${f.line}`))),
            )
          : h('span', { class: 'muted' }, r.stack_missing ?? 'no stack: its frames changed during the read');
        reports.body.append(
          h(
            'tr',
            { class: `gil-report gil-${r.kind}` },
            h('td', {}, new Date(r.time_ms).toLocaleTimeString(undefined, { hour12: false })),
            h('td', { class: 'fn' }, r.thread_name),
            h('td', {}, r.kind === 'hold' ? 'hold_gil' : 'take_gil'),
            h('td', { class: 'num' }, (r.duration_ns / 1e6).toFixed(3)),
            h('td', { class: 'num' }, (r.threshold_ns / 1e6).toFixed(3)),
            h('td', {}, stack),
          ),
        );
      } else if (kind === 'off') {
        const o = data as GilstatResults['off'];
        out.append(
          h('p', {}, o.was_on ? `gilstat stopped${o.owner ? ` (it ran in spyglass process ${o.owner})` : ''}` : 'gilstat was not on'),
        );
      }
    };
  },
};

const TORCH_OPEN_WITH = {
  trace: 'open it in https://ui.perfetto.dev or chrome://tracing',
  memory_snapshot: 'open it in https://pytorch.org/memory_viz',
};

const torchForm: FormSpec = {
  name: 'torch',
  fields: [
    { key: 'action', label: 'action', value: 'profile', choices: ['profile', 'memory -s', 'memory -r'] },
    ...METHOD_FIELDS,
    { key: 'file', label: '-f', placeholder: 'trace.json / snapshot.pickle', width: 16 },
  ],
  words(v) {
    if (v.action === 'memory -s') return ['memory', '-s', ...opt('-f', v.file)];
    return [...(v.action === 'profile' ? ['profile'] : ['memory', '-r']), ...target(v), ...opt('-f', v.file)];
  },
  draw(out) {
    return (kind, data, where) => {
      if (kind !== 'file') return;
      const f = data as TorchResults['file'];
      if (f.path === null) {
        out.append(h('p', { class: 'muted' }, `stopped before ${f.method ?? 'the method'} was called; hook removed, nothing written`));
        return;
      }
      const name = f.path.slice(f.path.lastIndexOf('/') + 1);
      const during = f.method ? ` of one call of ${f.method} (${ms(f.cost_ms)} ms, thread ${f.thread})` : '';
      out.append(
        h(
          'div',
          { class: 'torch-file' },
          h('p', {}, `${f.kind === 'trace' ? 'Chrome trace' : 'CUDA memory snapshot'}${during}, torch ${f.torch}, ${f.bytes} bytes`),
          h(
            'p',
            {},
            'written to ',
            h('code', { class: 'torch-path' }, f.path),
            ' ',
            where ? h('button', { type: 'button', class: 'link', onclick: () => void download(where, name) }, `download ${name}`) : null,
          ),
          h('p', { class: 'muted' }, `sha256 ${f.sha256}; ${TORCH_OPEN_WITH[f.kind]}`),
          f.not_written
            ? h('p', { class: 'error' }, `could not write ${f.not_written.path}: ${f.not_written.reason}; saved above instead`)
            : null,
        ),
      );
    };
  },
};

const FORMS = [watchForm, traceForm, monitorForm, ttForm, getglobalForm, vmtoolForm, memForm, gilstatForm, torchForm];

/** The forms, their results below them; `onMessage` takes the server's cmd-* messages. */
export function insideForms(pid: number, sock: Socket): { element: HTMLElement; onMessage(m: ServerMessage): void } {
  let nextId = 1;
  const runs = new Map<
    number,
    { draw: (kind: string, data: unknown, download?: string) => void; status: HTMLElement; stop: HTMLButtonElement }
  >();
  const results = h('div', { class: 'cmd-results' });
  const run = (name: string, words: string[], spec = FORMS.find((f) => f.name === name)!) => {
    const id = nextId++;
    const status = h('span', { class: 'muted cmd-status' }, 'running...');
    const stop: HTMLButtonElement = h('button', { type: 'button', onclick: () => sock.send({ op: 'cmd-stop', id }) }, 'Stop');
    const out = h('div', { class: 'cmd-out' });
    const box = h(
      'section',
      { class: `cmd-run cmd-${name}`, 'data-id': id },
      h('div', { class: 'controls' }, h('code', {}, [name, ...words].join(' ')), stop, status),
      out,
    );
    results.prepend(box);
    runs.set(id, { draw: spec.draw(out, (n, w) => run(n, w)), status, stop });
    sock.send({ op: 'cmd-run', pid, id, name, words });
  };
  const tabs = h('div', { class: 'toolbar' });
  const formBox = h('div', { class: 'cmd-form' });
  const show = (spec: FormSpec) => {
    for (const b of tabs.children) b.classList.toggle('active', b.textContent === spec.name);
    const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
    const fields = spec.fields.map((f) => {
      const input = f.choices
        ? h('select', { name: f.key }, ...f.choices.map((c) => h('option', { value: c }, c)))
        : h('input', { name: f.key, value: f.value ?? '', placeholder: f.placeholder ?? '', size: f.width ?? 10 });
      if (f.choices && f.value) input.value = f.value;
      inputs.set(f.key, input);
      return h('label', {}, `${f.label} `, input);
    });
    const submit = (e: Event) => {
      e.preventDefault();
      const values = Object.fromEntries([...inputs].map(([k, i]) => [k, i.value]));
      run(spec.name, spec.words(values), spec);
    };
    formBox.replaceChildren(
      h(
        'form',
        { class: `controls form-${spec.name}`, onsubmit: submit },
        ...fields,
        h('button', { type: 'submit', class: 'primary' }, 'Run'),
      ),
    );
  };
  for (const spec of FORMS) tabs.append(h('button', { type: 'button', class: 'tab', onclick: () => show(spec) }, spec.name));
  show(watchForm);
  const failure = h('div', { class: 'error', hidden: true });
  return {
    element: h('div', { class: 'inside-forms' }, tabs, formBox, failure, results),
    onMessage(m) {
      // a request the server refused before any run began (a bad pid, too many at once)
      if (m.type === 'error') {
        failure.textContent = `${m.message}${m.hint ? ` (${m.hint})` : ''}`;
        failure.hidden = false;
        return;
      }
      failure.hidden = true;
      if (m.type === 'cmd-result') runs.get(m.id)?.draw(m.kind, m.data, m.download);
      else if (m.type === 'cmd-progress') {
        const r = runs.get(m.id);
        if (r) r.status.textContent = m.text;
      } else if (m.type === 'cmd-end') {
        const r = runs.get(m.id);
        if (!r) return;
        r.stop.disabled = true;
        r.status.textContent = m.error ? `${m.error}${m.hint ? ` (${m.hint})` : ''}` : 'ended';
        r.status.classList.toggle('error', !!m.error);
        runs.delete(m.id);
      }
    },
  };
}
