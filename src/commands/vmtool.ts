// `vmtool -a getInstances -c module class [-e EXPR] [-n N]`: live instances of a class
// (subclass instances included and marked); `vmtool -a forceGc`: a full collection,
// with what each generation freed and how long it took.
import { UsageError } from '../errors.js';
import { parseArgs, type OptionSpec } from './args.js';
import { type CommandModel, shellCommand } from './model.js';
import type { CommandOutput } from './types.js';
import { RENDER_OPTIONS, type RenderRequest, formatValue, renderArgs } from './value-text.js';
import type { RenderedNode } from '../channel/protocol.js';

const OPTIONS: OptionSpec[] = [
  {
    names: ['-a', '--action'],
    key: 'action',
    kind: 'string',
    choices: ['getInstances', 'forceGc'],
    metavar: '<action>',
    description: 'getInstances or forceGc',
  },
  {
    names: ['-c', '--class'],
    key: 'cls',
    kind: 'flag',
    default: false,
    description: 'followed by `module class`: the class whose instances to show',
  },
  {
    names: ['-e', '--expr'],
    key: 'expr',
    kind: 'string',
    metavar: '<value>',
    expression: true,
    description: 'an expression of `instances` (the list of instances) to show instead, e.g. instances[0].val',
  },
  {
    names: ['-n', '--limits', '--limit'],
    key: 'limit',
    kind: 'int',
    default: 10,
    min: -1,
    metavar: '<value>',
    description: 'how many instances to show (default 10, -1 for all, 0 for the count only)',
  },
  ...RENDER_OPTIONS,
];

export interface InstancesAnswer {
  type: string;
  total: number;
  subclass_instances: number;
  expr?: string;
  value?: RenderedNode;
  instances?: Array<{ value: RenderedNode; subclass?: string }>;
}

export interface GcAnswer {
  generations: Array<{ generation: number; collected: number; ms: number }>;
  collected: number;
  ms: number;
  uncollectable: number;
  counts_before: number[];
  counts_after: number[];
  enabled: boolean;
}

export type VmtoolRequest =
  | ({ action: 'getInstances'; module: string; cls: string; limit: number; expr?: string } & RenderRequest)
  | { action: 'forceGc' };

/** What vmtool yields: one answer, as --json prints it. */
export interface VmtoolResults {
  instances: InstancesAnswer;
  gc: GcAnswer;
}

function instancesText(out: CommandOutput, a: InstancesAnswer): void {
  const sub = a.subclass_instances ? ` (${a.subclass_instances} of subclasses)` : '';
  if (a.value) {
    out.line(`${a.total} instance${a.total === 1 ? '' : 's'} of ${a.type}${sub}; -e ${a.expr}:`);
    out.line(formatValue(a.value));
    return;
  }
  const shown = a.instances ?? [];
  out.line(
    `${a.total} instance${a.total === 1 ? '' : 's'} of ${a.type}${sub}` +
      (shown.length < a.total ? `, showing ${shown.length} (-n -1 for all)` : ''),
  );
  // INDEX / VALUE columns, as the reference tool heads them
  if (shown.length) out.line('INDEX  VALUE');
  shown.forEach((inst, i) => {
    const mark = inst.subclass ? `  [subclass ${inst.subclass}]` : '';
    out.line(`[${i}]${mark} ${formatValue(inst.value, '    ')}`);
  });
}

function gcText(out: CommandOutput, g: GcAnswer): void {
  // the reference's sentence first (scripts look for it), then what it leaves out
  out.line(
    `Gc execute successfully, totally ${g.collected} unreachable objects are freed (a full collection in ${g.ms.toFixed(2)} ms` +
      (g.uncollectable ? `; ${g.uncollectable} uncollectable in gc.garbage)` : ')'),
  );
  for (const gen of g.generations) out.line(`  generation ${gen.generation}: ${gen.collected} collected, ${gen.ms.toFixed(2)} ms`);
  out.line(
    `  counts before ${JSON.stringify(g.counts_before)}, after ${JSON.stringify(g.counts_after)}${g.enabled ? '' : ' (automatic collection is disabled in the target)'}`,
  );
}

export const vmtoolModel: CommandModel<VmtoolRequest, VmtoolResults> = {
  name: 'vmtool',
  summary: 'Live instances of a class (getInstances), or a forced full garbage collection (forceGc).',
  usage: 'vmtool -a getInstances -c module class [-e <value>] [-x <value>] [-n <value>] [-r] [-v] | vmtool -a forceGc',
  examples: [
    { command: 'vmtool -a getInstances -c __main__ A', comment: 'the instances of class A (and of its subclasses, marked)' },
    { command: 'vmtool -a getInstances -c __main__ A -e instances[0].val', comment: 'a field of the first one' },
    { command: 'vmtool -a getInstances -c app.models User -n -1', comment: 'all of them' },
    { command: 'vmtool -a forceGc', comment: 'run a full collection: objects freed per generation, time taken' },
  ],
  options: OPTIONS,
  runsIn: 'agent',
  parse(words) {
    const { positionals, options } = parseArgs('vmtool', words, OPTIONS);
    if (options.action === undefined) throw new UsageError('vmtool: -a <action> is required', 'getInstances or forceGc');
    if (options.action === 'forceGc') {
      if (positionals.length) throw new UsageError(`vmtool: forceGc takes no arguments (got ${positionals.join(' ')})`);
      return { action: 'forceGc' };
    }
    if (positionals.length !== 2) {
      throw new UsageError(
        `vmtool: getInstances needs \`-c module class\`, got ${positionals.length} word(s)`,
        'e.g. `vmtool -a getInstances -c __main__ A`',
      );
    }
    const [module, cls] = positionals;
    // -n 0 counts them and shows none, as the reference's check_limit allows
    const limit = options.limit as number;
    return { action: 'getInstances', module, cls, limit, expr: options.expr as string | undefined, ...renderArgs(options) };
  },
  async *execute(ctx, req) {
    if (req.action === 'forceGc') yield { kind: 'gc', data: (await ctx.agent.call('vmtool', { ...req })) as GcAnswer };
    else yield { kind: 'instances', data: (await ctx.agent.call('vmtool', { ...req })) as InstancesAnswer };
  },
  textView(_req, out) {
    return (step) => (step.kind === 'gc' ? gcText(out, step.data) : instancesText(out, step.data));
  },
};

export const vmtoolCommand = shellCommand(vmtoolModel);
