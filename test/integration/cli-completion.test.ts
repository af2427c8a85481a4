// `crewvault completion bash|zsh|fish` (#11): the script the real binary prints, loaded into the
// real shell. bash runs its completion function as Tab would (COMP_WORDS/COMP_CWORD); fish answers
// `complete -C` itself; zsh's completion widgets need a terminal, so there the script runs with
// _describe/compadd/_files replaced by functions that print what they were given.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { crewvault } from '../support/cli';
import { tempFolder } from '../support/vault';

const scripts: Record<'bash' | 'zsh' | 'fish', string> = { bash: '', zsh: '', fish: '' };

beforeAll(() => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    const printed = crewvault(['completion', shell]);
    expect(printed.stderr).toBe('');
    expect(printed.status).toBe(0);
    scripts[shell] = printed.stdout;
  }
});

function saved(shell: keyof typeof scripts): string {
  const file = path.join(tempFolder(), `crewvault.${shell}`);
  writeFileSync(file, scripts[shell]);
  return file;
}

/** What bash's Tab offers after `line` (words split on spaces; a trailing space starts a new word). */
function bashTab(line: string): string[] {
  const words = line.split(' ');
  const program = `source ${JSON.stringify(saved('bash'))}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _crewvault; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

function fishTab(line: string): string[] {
  const program = `source ${saved('fish')}; complete -C ${JSON.stringify(line)}`;
  return execFileSync('fish', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => l.split('\t')[0] ?? '');
}

function zshTab(line: string): string[] {
  const words = line.split(' ');
  const stubs = '_describe() { print -l -- ${(P)2}; }; compadd() { shift; print -l -- "$@"; }; _files() { print FILES; }; compdef() { :; }';
  const program = `${stubs}; source ${saved('zsh')}; words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; PREFIX='${words.at(-1) ?? ''}'; _crewvault`;
  const offered = execFileSync('zsh', ['-f', '-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean);
  // zsh leaves filtering by PREFIX to compadd; the stub does not, so filter as it would.
  return offered.map((l) => l.split(':')[0] ?? '').filter((w) => w === 'FILES' || w.startsWith(prefixOf(line)));
}

function prefixOf(line: string): string {
  return line.split(' ').at(-1) ?? '';
}

describe('shell completion from the commands\' own usage', () => {
  it('bash: commands, subcommands and options', () => {
    expect(bashTab('crewvault li')).toEqual(['list']);
    expect(bashTab('crewvault lo')).toContain('lock');
    expect(bashTab('crewvault unl')).toEqual(['unlock']);
    expect(bashTab('crewvault user ')).toEqual(['add', 'list', 'disable', 'role', 'reset-password', 'bind']);
    expect(bashTab('crewvault audit v')).toEqual(['verify']);
    expect(bashTab('crewvault otp --j')).toEqual(['--json']);
    expect(bashTab('crewvault add --pa')).toEqual(['--password-prompt']);
    expect(bashTab('crewvault list --v')).toEqual(['--vault']);
    // show's help mentions rm's --if-revision; show does not take it.
    expect(bashTab('crewvault show --i')).toEqual([]);
    // The agent's hidden command is offered nowhere.
    expect(bashTab('crewvault _')).toEqual([]);
  });

  it('fish: the same words, through complete -C', () => {
    expect(fishTab('crewvault li')).toEqual(['list']);
    // fish sorts what it offers.
    expect(fishTab('crewvault mfa ')).toEqual(['begin', 'confirm', 'emergency', 'off', 'recovery-codes', 'regenerate', 'reset', 'status']);
    expect(fishTab('crewvault otp --j')).toEqual(['--json']);
    expect(fishTab('crewvault completion ')).toEqual(['bash', 'fish', 'zsh']);
  });

  it('zsh: the same words, and files where no word fits', () => {
    expect(zshTab('crewvault li')).toEqual(['list']);
    expect(zshTab('crewvault group ')).toEqual(['add', 'list', 'grant', 'revoke', 'members', 'lead', 'unlead', 'rename', 'delete', 'set', 'rotate']);
    expect(zshTab('crewvault unlock --id')).toEqual(['--idle-minutes']);
    expect(zshTab('crewvault import ')).toEqual(['FILES']);
  });

  it('a missing or unknown shell is a usage error in one line', () => {
    expect(crewvault(['completion'])).toEqual({ status: 2, stdout: '', stderr: 'crewvault: USAGE: name the shell: bash, zsh or fish (see "crewvault completion --help")\n' });
    expect(crewvault(['completion', 'tcsh']).status).toBe(2);
  });
});
