// `spyglass completions <shell>`: a completion script for bash, zsh or fish (py-spy has
// the same command), made from the commander tree itself, so that every subcommand and
// option is in it and none that was removed. It completes subcommand names, each one's
// options, and the pids of running Python processes where a pid is asked for.
import type { Command, Option } from 'commander';
import { SUBCOMMANDS } from './subcommands.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
/** options whose value is a file or directory name */
const FILE_OPTIONS = ['--file', '--output', '--dir'];

interface Entry {
  name: string;
  summary: string;
  options: Array<{ flags: string[]; description: string; takesValue: boolean; choices?: readonly string[] }>;
  /** what its first argument completes to: its choices (completions' shell), pids (dump PID), or nothing */
  argument?: readonly string[] | 'pid';
}

/** Registers every subcommand not registered yet: the script lists them all. */
async function wholeTree(program: Command): Promise<Entry[]> {
  for (const s of SUBCOMMANDS) {
    if (!program.commands.some((c) => c.name() === s.name)) (await s.load())(program);
  }
  const optionsOf = (c: Command) =>
    [...c.options, { long: '--help', short: '-h', description: 'display help', required: false, optional: false } as Option].map((o) => ({
      flags: [o.short, o.long].filter((f): f is string => Boolean(f)),
      description: o.description,
      takesValue: o.required || o.optional,
      choices: o.argChoices,
    }));
  const order = SUBCOMMANDS.map((s) => s.name);
  const commands = [...program.commands].sort((a, b) => order.indexOf(a.name()) - order.indexOf(b.name()));
  return [
    // a bare pid opens the shell (spyglass PID)
    { name: '', summary: program.description(), options: optionsOf(program), argument: 'pid' },
    ...commands.map((c) => ({
      name: c.name(),
      summary: c.summary() || c.description(),
      options: optionsOf(c),
      argument: c.registeredArguments[0]?.name() === 'pid' ? ('pid' as const) : c.registeredArguments[0]?.argChoices,
    })),
  ];
}

/** Single-quoted for the shell. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The bash case arms for one command: a value after one of its options, else an option or its argument. */
function bashArms(e: Entry, words: string): string {
  const arms: string[] = [];
  for (const o of e.options.filter((x) => x.takesValue)) {
    const what = o.flags.includes('--pid') ? '"$(_spyglass_pids)"' : o.choices ? q(o.choices.join(' ')) : undefined;
    // a file where one is named; nothing to offer for a number or a command's text
    const reply = what
      ? `COMPREPLY=($(compgen -W ${what} -- "$cur"))`
      : o.flags.some((f) => FILE_OPTIONS.includes(f))
        ? 'COMPREPLY=($(compgen -f -- "$cur"))'
        : 'return';
    arms.push(`${o.flags.join('|')}) ${reply} ;;`);
  }
  const argument = e.argument === 'pid' ? '"$(_spyglass_pids)"' : e.argument ? q(e.argument.join(' ')) : undefined;
  const options = `COMPREPLY=($(compgen -W ${q(e.options.flatMap((o) => o.flags).join(' '))} -- "$cur"))`;
  const positional = [
    words && `COMPREPLY=($(compgen -W ${q(words)} -- "$cur"))`,
    argument && `COMPREPLY+=($(compgen -W ${argument} -- "$cur"))`,
  ]
    .filter(Boolean)
    .join('; ');
  arms.push(`*) if [[ "$cur" == -* ]]; then ${options}; else ${positional || ':'}; fi ;;`);
  return `case "$prev" in ${arms.join(' ')} esac`;
}

function bash(tree: Entry[]): string {
  const [root, ...commands] = tree;
  return `# spyglass completion for bash: source it, or put it in /etc/bash_completion.d/
_spyglass_pids() {
  local p
  for p in /proc/[0-9]*; do
    case "$(readlink "$p/exe" 2>/dev/null)" in */python*) echo "\${p#/proc/}" ;; esac
  done
}
_spyglass() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  case "$cmd" in
    "") ${bashArms(root, commands.map((c) => c.name).join(' '))} ;;
${commands.map((c) => `    ${c.name}) ${bashArms(c, '')} ;;`).join('\n')}
  esac
}
complete -o default -F _spyglass spyglass
`;
}

function zsh(tree: Entry[]): string {
  // zsh runs bash completion functions through bashcompinit
  return `#compdef spyglass
# spyglass completion for zsh: put it in a directory on $fpath as _spyglass, or source it
autoload -U +X bashcompinit && bashcompinit
${bash(tree).split('\n').slice(1).join('\n')}`;
}

function fish(tree: Entry[]): string {
  const [root, ...commands] = tree;
  const lines = ['# spyglass completion for fish: save as ~/.config/fish/completions/spyglass.fish', 'complete -c spyglass -f'];
  const option = (cond: string, o: Entry['options'][number]) => {
    const parts = ['complete -c spyglass', `-n ${q(cond)}`];
    for (const f of o.flags) parts.push(f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`);
    if (o.takesValue) parts.push('-r');
    parts.push(`-d ${q(o.description)}`);
    return parts.join(' ');
  };
  for (const c of commands) lines.push(`complete -c spyglass -n '__fish_use_subcommand' -a ${c.name} -d ${q(c.summary)}`);
  for (const o of root.options) lines.push(option('__fish_use_subcommand', o));
  for (const c of commands) for (const o of c.options) lines.push(option(`__fish_seen_subcommand_from ${c.name}`, o));
  return `${lines.join('\n')}\n`;
}

export function registerCompletions(program: Command): void {
  program
    .command('completions')
    .summary('print a shell completion script (bash, zsh, fish)')
    .description('Print a completion script for the shell: subcommands, their options, and Python pids where one is asked for.')
    .addArgument(program.createArgument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText(
      'after',
      '\nExamples:\n  spyglass completions bash > ~/.spyglass.bash\n  spyglass completions fish > ~/.config/fish/completions/spyglass.fish',
    )
    .action(async (shell: (typeof SHELLS)[number]) => {
      const tree = await wholeTree(program);
      process.stdout.write(shell === 'bash' ? bash(tree) : shell === 'zsh' ? zsh(tree) : fish(tree));
    });
}
