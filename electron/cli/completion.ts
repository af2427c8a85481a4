/**
 * `crewvault completion bash|zsh|fish`: prints a completion script for that shell, made from
 * the commands' own usage text (their names, summaries, subcommands and --options), so it
 * cannot fall out of step with them. Completes no values: never an entry name, which would
 * need the vault (and a password) on every Tab.
 */
import { parseArgs } from 'node:util';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS } from './signin';

export interface CommandWords {
  readonly name: string;
  readonly summary: string;
  readonly subcommands: readonly string[];
  readonly options: readonly string[];
}

/** Splits on `|` outside brackets: "a [x|y] | b" is "a [x|y]" and "b". */
function alternatives(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    // "[…]" is optional, "{on|off}" an option's values: neither's "|" separates subcommands.
    if (ch === '[' || ch === '{') depth++;
    if (ch === ']' || ch === '}') depth = Math.max(0, depth - 1);
    if (ch === '|' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/** The subcommands and options a command's usage names. */
export function commandWords(name: string, command: CliCommand): CommandWords {
  const lines = command.usage.split('\n');
  // The synopsis: the first line, lines that go on with "|" or "[", and further "crewvault NAME …" forms.
  const synopsis = lines.filter((line, i) => i === 0 || /^\s+[|[]/.test(line) || line.trimStart().startsWith(`crewvault ${name} `));
  const subcommands = new Set<string>();
  for (const line of synopsis) {
    const rest = line.trimStart().startsWith(`crewvault ${name}`) ? line.trimStart().slice(`crewvault ${name}`.length) : line;
    for (const part of alternatives(rest)) {
      const word = /^[a-z][a-z-]*$/.exec(part.trim().split(/\s+/)[0] ?? '')?.[0];
      if (word) subcommands.add(word);
    }
  }
  // "[verify [--keyed]]" where no subcommand leads: an optional one.
  if (subcommands.size === 0) for (const match of synopsis.join(' ').matchAll(/\[([a-z][a-z-]*)[\s\]]/g)) if (match[1]) subcommands.add(match[1]);
  // Options in the synopsis, and those a description line starts with ("  --json  the entry…");
  // not one a sentence mentions in passing (show's help names rm's --if-revision).
  const described = lines.filter((line) => /^\s+--[a-z]/.test(line)).map((line) => line.trim().split(/\s/)[0] ?? '');
  const options = new Set([...synopsis.join(' ').matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0]).concat(described));
  // Every command that takes --vault takes the sign-in options too (signin.ts).
  if (options.has('--vault')) for (const option of Object.keys(VAULT_OPTIONS)) options.add(`--${option}`);
  options.add('--help');
  return { name, summary: command.summary, subcommands: [...subcommands], options: [...options].sort() };
}

function single(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

function bash(words: readonly CommandWords[]): string {
  const cases = words.map((w) => `    ${w.name}) subs=${single(w.subcommands.join(' '))}; opts=${single(w.options.join(' '))} ;;`).join('\n');
  return `# crewvault completion for bash: eval "$(crewvault completion bash)" in ~/.bashrc
_crewvault() {
  local cur=\${COMP_WORDS[COMP_CWORD]} subs='' opts=''
  if (( COMP_CWORD == 1 )); then
    COMPREPLY=($(compgen -W ${single(words.map((w) => w.name).join(' '))} -- "$cur"))
    return
  fi
  case \${COMP_WORDS[1]} in
${cases}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif (( COMP_CWORD == 2 )) && [[ -n $subs ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  fi
}
complete -o default -F _crewvault crewvault
`;
}

function zsh(words: readonly CommandWords[]): string {
  const described = words.map((w) => single(`${w.name}:${w.summary.replaceAll(':', '\\:')}`)).join(' ');
  const cases = words.map((w) => `    ${w.name}) subs=(${w.subcommands.join(' ')}); opts=(${w.options.join(' ')}) ;;`).join('\n');
  return `#compdef crewvault
# crewvault completion for zsh: eval "$(crewvault completion zsh)" in ~/.zshrc (after compinit),
# or save it as _crewvault in a folder of $fpath.
_crewvault() {
  local -a commands subs opts
  if (( CURRENT == 2 )); then
    commands=(${described})
    _describe 'command' commands
    return
  fi
  case $words[2] in
${cases}
  esac
  if [[ $PREFIX == -* ]]; then
    compadd -- $opts
  elif (( CURRENT == 3 && $#subs )); then
    compadd -- $subs
  else
    _files
  fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _crewvault "$@"
else
  compdef _crewvault crewvault
fi
`;
}

function fish(words: readonly CommandWords[]): string {
  const lines = [
    '# crewvault completion for fish: crewvault completion fish > ~/.config/fish/completions/crewvault.fish',
    'complete -c crewvault -e',
  ];
  for (const w of words) {
    lines.push(`complete -c crewvault -n __fish_use_subcommand -f -a ${w.name} -d ${single(w.summary)}`);
    const seen = `'__fish_seen_subcommand_from ${w.name}'`;
    if (w.subcommands.length > 0) {
      lines.push(`complete -c crewvault -n "__fish_seen_subcommand_from ${w.name}; and test (count (commandline -opc)) -eq 2" -f -a ${single(w.subcommands.join(' '))}`);
    }
    for (const option of w.options) lines.push(`complete -c crewvault -n ${seen} -l ${option.slice(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

const SHELLS = { bash, zsh, fish } as const;

const USAGE = `crewvault completion bash|zsh|fish
  Prints a completion script for commands, subcommands and options:
    bash  eval "$(crewvault completion bash)"        (in ~/.bashrc)
    zsh   eval "$(crewvault completion zsh)"         (in ~/.zshrc, after compinit)
    fish  crewvault completion fish > ~/.config/fish/completions/crewvault.fish`;

/** The command, given the list it describes (main.ts's, which includes it). */
export function completionCommand(commands: () => Readonly<Record<string, CliCommand>>): CliCommand {
  return {
    summary: 'print a shell completion script (bash, zsh, fish)',
    usage: USAGE,
    run: (args: string[], io: CliIo): Promise<number> => {
      const { positionals } = parseArgs({ args, options: {}, allowPositionals: true });
      const [shell, ...rest] = positionals;
      if (rest.length > 0) throw unexpectedArgument();
      if (shell !== 'bash' && shell !== 'zsh' && shell !== 'fish') throw new UsageError('name the shell: bash, zsh or fish');
      const words = Object.entries(commands()).map(([name, command]) => commandWords(name, command));
      io.out(SHELLS[shell](words));
      return Promise.resolve(0);
    },
  };
}
