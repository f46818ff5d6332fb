// `torch profile module [class] method [-nm NESTED] [-f FILE]`, `torch memory -s [-f FILE]`,
// `torch memory -r module [class] method [-nm NESTED] [-f FILE]`: PyTorch's profiler and
// CUDA memory snapshots, run inside the target by the agent (commands/torch/) on the
// next call of a method; the file comes back over the channel and is written here.
import { UsageError } from '../errors.js';
import { type SavedFile, savedElsewhere } from '../save-file.js';
import { parseArgs, type OptionSpec } from './args.js';
import { type FileChunk, FileReceiver, outputPath } from './file-receive.js';
import { type CommandModel, type ExecuteContext, type StepOf, agentEvents, shellCommand } from './model.js';
import { type MethodTarget, LOCATION_OPTIONS, NESTED_OPTION, type Options, methodArgs, ms } from './observe-stream.js';

const OPTIONS: OptionSpec[] = [
  { names: ['-s', '--snapshot'], key: 'snapshot', kind: 'flag', default: false, description: 'memory: a snapshot of the CUDA memory now' },
  {
    names: ['-r', '--record'],
    key: 'record',
    kind: 'flag',
    default: false,
    description: 'memory: followed by `module [class] method`: record CUDA allocations during its next call',
  },
  ...LOCATION_OPTIONS,
  NESTED_OPTION,
  {
    names: ['-f', '--filepath'],
    key: 'file',
    kind: 'string',
    metavar: '<value>',
    description: 'where to write the file (default ./trace.json for profile, ./snapshot.pickle for memory)',
  },
];

interface TorchEvents {
  started: { method: string; file: string; line: number; activities?: string[] };
  file_chunk: FileChunk;
}

interface TorchEnd {
  cancelled?: boolean;
  kind: 'trace' | 'memory_snapshot';
  bytes: number;
  sha256: string;
  complete: boolean;
  torch: string;
  method?: string;
  cost_ms?: number;
  thread?: string;
}

const HOW_TO_OPEN = {
  trace: 'open it in https://ui.perfetto.dev or chrome://tracing',
  memory_snapshot: 'open it in https://pytorch.org/memory_viz (drag the file onto the page)',
};

/** The agent's arguments, and where the file goes. */
export interface TorchRequest {
  args: { action: 'profile' } | { action: 'memory'; snapshot: true } | { action: 'memory'; record: true };
  target?: MethodTarget;
  path: string;
}

/** What torch yields, as --json prints it: the file written (path null when stopped before the call). */
export interface TorchResults {
  file: TorchEnd & { path: string | null; not_written?: SavedFile['notWritten'] };
}

const WHAT = { trace: 'Chrome trace', memory_snapshot: 'CUDA memory snapshot' };

/** Runs the agent request, writing the file's chunks to the request's path as they arrive. */
async function* fetchFile(ctx: ExecuteContext, req: TorchRequest): AsyncGenerator<StepOf<TorchResults>> {
  const file = new FileReceiver(req.path);
  let end: TorchEnd | undefined;
  try {
    for await (const ev of agentEvents<TorchEvents, TorchEnd>(ctx, 'torch', { ...req.args, ...req.target })) {
      if (ev.event === 'file_chunk') file.chunk(ev.data);
      else if (ev.event === 'started') {
        const s = ev.data;
        yield {
          progress:
            `waiting for the next call of ${s.method} (${s.file}:${s.line})` +
            (s.activities ? `; profiling ${s.activities.join(' + ')}` : '') +
            '. Ctrl-C to give up',
        };
      } else if (ev.event === 'end') end = ev.data;
    }
  } catch (e) {
    file.discard();
    throw e;
  }
  if (!end || end.cancelled) {
    file.discard();
    yield { progress: `stopped before ${end?.method ?? 'the method'} was called; hook removed, nothing written` };
    yield { kind: 'file', data: { ...(end as TorchEnd), path: null } };
    return;
  }
  file.finish(end);
  yield { kind: 'file', data: { ...end, path: file.path, ...(file.notWritten ? { not_written: file.notWritten } : {}) } };
  const elsewhere = savedElsewhere(file, WHAT[end.kind]);
  if (elsewhere) throw elsewhere;
}

function parseProfile(positionals: string[], o: Options, cwd: string): TorchRequest {
  if (o.snapshot || o.record) throw new UsageError('torch profile takes no -s/-r (they belong to `torch memory`)');
  const path = outputPath(cwd, (o.file as string | undefined) ?? 'trace.json', 'trace.json');
  return { args: { action: 'profile' }, target: methodArgs('torch profile', positionals, o), path };
}

function parseMemory(positionals: string[], o: Options, cwd: string): TorchRequest {
  if (o.snapshot === o.record)
    throw new UsageError(
      'torch memory: give one of -s (snapshot now) or -r module [class] method (record one call)',
      'e.g. `torch memory -s`',
    );
  const path = outputPath(cwd, (o.file as string | undefined) ?? 'snapshot.pickle', 'snapshot.pickle');
  if (o.snapshot) {
    if (positionals.length || o.nested) throw new UsageError('torch memory -s takes no method (it snapshots now); -r records a call');
    return { args: { action: 'memory', snapshot: true }, path };
  }
  return { args: { action: 'memory', record: true }, target: methodArgs('torch memory -r', positionals, o), path };
}

export const torchModel: CommandModel<TorchRequest, TorchResults> = {
  name: 'torch',
  summary: 'PyTorch: profile the next call of a method (Chrome trace), CUDA memory snapshots and allocation recording.',
  description:
    'The agent runs torch.profiler (CPU, plus CUDA when available) or torch.cuda.memory inside the target, around the next call ' +
    'of the method (hooked, then unhooked as soon as that call returns). The file torch writes is streamed back and written ' +
    'where spyglass runs, so it works for targets in containers too. torch must already be imported by the target: spyglass ' +
    'never imports it. Snapshots are pickles made by torch: spyglass copies their bytes and never loads them.',
  usage:
    'torch profile module [class] method [-nm <value>] [-f <value>] | torch memory -s [-f <value>] | torch memory -r module [class] method [-nm <value>] [-f <value>]',
  examples: [
    {
      command: 'torch profile __main__ A hello',
      comment: 'profile the next call of A.hello; writes ./trace.json (Perfetto, chrome://tracing)',
    },
    { command: 'torch profile app.model Net forward -f ~/forward.json', comment: 'the next forward pass, written to ~/forward.json' },
    { command: 'torch memory -s', comment: 'a CUDA memory snapshot now: ./snapshot.pickle for pytorch.org/memory_viz' },
    { command: 'torch memory -r __main__ Solution call', comment: 'record CUDA allocations during the next call of Solution.call' },
  ],
  options: OPTIONS,
  runsIn: 'agent',
  parse(words, at) {
    const { positionals, options } = parseArgs('torch', words, OPTIONS);
    const [action, ...rest] = positionals;
    if (action === 'profile') return parseProfile(rest, options, at.cwd);
    if (action === 'memory') return parseMemory(rest, options, at.cwd);
    throw new UsageError(
      `torch: expected \`profile\` or \`memory\`${action ? `, got ${JSON.stringify(action)}` : ''}`,
      'e.g. `torch profile __main__ Model forward`, `torch memory -s`',
    );
  },
  execute: fetchFile,
  textView(_req, out) {
    return ({ data: end }) => {
      if (end.path === null) return;
      const during = end.method ? ` of one call of ${end.method} (${ms(end.cost_ms ?? 0)}, thread ${end.thread})` : '';
      // the reference tool's words first ("torch profile info has been written to ..."), which scripts look for
      const feature = end.kind === 'trace' ? 'torch profile' : end.method ? 'torch memory record' : 'torch memory snapshot';
      out.line(`${feature} info has been written to ${end.path} (${end.bytes} bytes): ${WHAT[end.kind]}${during}, torch ${end.torch}`);
      out.line(HOW_TO_OPEN[end.kind]);
    };
  },
};

export const torchCommand = shellCommand(torchModel);
