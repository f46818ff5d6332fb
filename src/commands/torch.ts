// `torch profile module [class] method [-nm NESTED] [-f FILE]`, `torch memory -s [-f FILE]`,
// `torch memory -r module [class] method [-nm NESTED] [-f FILE]`: PyTorch's profiler and
// CUDA memory snapshots, run inside the target by the agent (commands/torch/) on the
// next call of a method; the file comes back over the channel and is written here.
import { UsageError } from '../errors.js';
import { savedElsewhere } from '../save-file.js';
import { parseArgs, type OptionSpec } from './args.js';
import { type FileChunk, FileReceiver, outputPath } from './file-receive.js';
import { NESTED_OPTION, methodArgs, ms, streamRequest, type Options } from './observe-stream.js';
import type { CommandContext, ShellCommand } from './types.js';

const OPTIONS: OptionSpec[] = [
  { names: ['-s', '--snapshot'], key: 'snapshot', kind: 'flag', default: false, description: 'memory: a snapshot of the CUDA memory now' },
  {
    names: ['-r', '--record'],
    key: 'record',
    kind: 'flag',
    default: false,
    description: 'memory: followed by `module [class] method`: record CUDA allocations during its next call',
  },
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

/** Runs the agent request, writing the file's chunks to `path` as they arrive. */
async function fetchFile(ctx: CommandContext, args: Record<string, unknown>, path: string): Promise<void> {
  const file = new FileReceiver(path);
  let end: TorchEnd;
  try {
    end = await streamRequest<TorchEvents, TorchEnd>(ctx, 'torch', args, (ev) => {
      if (ev.event === 'file_chunk') file.chunk(ev.data);
      else if (ev.event === 'started') {
        const s = ev.data;
        ctx.out.note(
          `waiting for the next call of ${s.method} (${s.file}:${s.line})` +
            (s.activities ? `; profiling ${s.activities.join(' + ')}` : '') +
            '. Ctrl-C to give up',
        );
      }
    });
  } catch (e) {
    file.discard();
    throw e;
  }
  if (end.cancelled) {
    file.discard();
    ctx.out.note(`stopped before ${end.method ?? 'the method'} was called; hook removed, nothing written`);
    ctx.out.record({ ...end, path: null });
    return;
  }
  const bytes = file.finish(end);
  ctx.out.record({ ...end, path: file.path, ...(file.notWritten ? { not_written: file.notWritten } : {}) });
  const what = end.kind === 'trace' ? 'Chrome trace' : 'CUDA memory snapshot';
  const during = end.method ? ` of one call of ${end.method} (${ms(end.cost_ms ?? 0)}, thread ${end.thread})` : '';
  ctx.out.line(`wrote ${file.path} (${bytes} bytes): ${what}${during}, torch ${end.torch}`);
  ctx.out.line(HOW_TO_OPEN[end.kind]);
  const elsewhere = savedElsewhere(file, what);
  if (elsewhere) throw elsewhere;
}

function profile(ctx: CommandContext, positionals: string[], o: Options): Promise<void> {
  if (o.snapshot || o.record) throw new UsageError('torch profile takes no -s/-r (they belong to `torch memory`)');
  const path = outputPath(ctx.cwd, (o.file as string | undefined) ?? 'trace.json');
  return fetchFile(ctx, { action: 'profile', ...methodArgs('torch profile', positionals, o) }, path);
}

function memory(ctx: CommandContext, positionals: string[], o: Options): Promise<void> {
  if (o.snapshot === o.record)
    throw new UsageError(
      'torch memory: give one of -s (snapshot now) or -r module [class] method (record one call)',
      'e.g. `torch memory -s`',
    );
  const path = outputPath(ctx.cwd, (o.file as string | undefined) ?? 'snapshot.pickle');
  if (o.snapshot) {
    if (positionals.length || o.nested) throw new UsageError('torch memory -s takes no method (it snapshots now); -r records a call');
    return fetchFile(ctx, { action: 'memory', snapshot: true }, path);
  }
  return fetchFile(ctx, { action: 'memory', record: true, ...methodArgs('torch memory -r', positionals, o) }, path);
}

export const torchCommand: ShellCommand = {
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
  async run(ctx, words) {
    const { positionals, options } = parseArgs('torch', words, OPTIONS);
    const [action, ...rest] = positionals;
    if (action === 'profile') return profile(ctx, rest, options);
    if (action === 'memory') return memory(ctx, rest, options);
    throw new UsageError(
      `torch: expected \`profile\` or \`memory\`${action ? `, got ${JSON.stringify(action)}` : ''}`,
      'e.g. `torch profile __main__ Model forward`, `torch memory -s`',
    );
  },
};
