// `getglobal module [class] field [-e EXPR] [-x N] [-r] [-v]`: a module global or a class
// attribute of the target, rendered by the agent's shared renderer.
import { locationOptions, parseArgs, parseMethodTarget, type OptionSpec } from './args.js';
import { type CommandModel, shellCommand } from './model.js';
import { RENDER_OPTIONS, type RenderRequest, formatValue, renderArgs } from './value-text.js';
import type { RenderedNode } from '../channel/protocol.js';

const OPTIONS: OptionSpec[] = [
  {
    names: ['-e', '--expr'],
    key: 'expr',
    kind: 'string',
    metavar: '<value>',
    expression: true,
    description: "an expression of `target` (the field's value) to show instead, e.g. target.fieldA",
  },
  ...RENDER_OPTIONS,
  // the reference tool's named form: getglobal --mod m [--cls c] --var v
  ...locationOptions('var'),
];

/** The value, rendered by the agent as a value tree. */
export interface GetglobalAnswer {
  module: string;
  cls: string | null;
  field: string;
  expr?: string;
  value: RenderedNode;
}

export interface GetglobalRequest extends RenderRequest {
  module: string;
  cls?: string;
  field: string;
  expr?: string;
}

export const getglobalModel: CommandModel<GetglobalRequest, { value: GetglobalAnswer }> = {
  name: 'getglobal',
  summary: 'Show a module global or a class attribute (static field) of the target.',
  usage: 'getglobal module [class] field [-e <value>] [-x <value>] [-r] [-v]',
  examples: [
    { command: 'getglobal __main__ g_list', comment: 'a global of the script the target runs' },
    { command: 'getglobal __main__ classA static_field', comment: 'a class attribute' },
    { command: 'getglobal app.config SETTINGS -e "target[\'db\']" -x 2', comment: 'part of it, two levels deep' },
  ],
  options: OPTIONS,
  runsIn: 'agent',
  parse(words) {
    const { positionals, options } = parseArgs('getglobal', words, OPTIONS);
    const { module, cls, method: field } = parseMethodTarget('getglobal', positionals, options, 'var');
    return { module, cls, field, expr: options.expr as string | undefined, ...renderArgs(options) };
  },
  async *execute(ctx, req) {
    yield { kind: 'value', data: (await ctx.agent.call('getglobal', { ...req })) as GetglobalAnswer };
  },
  textView(req, out) {
    return ({ data: answer }) => {
      const name = [req.module, req.cls, req.field].filter(Boolean).join('.');
      out.line(`${answer.expr ? `${name}  -e ${answer.expr}` : name}  (${answer.value.type})`);
      out.line(formatValue(answer.value));
    };
  },
};

export const getglobalCommand = shellCommand(getglobalModel);
