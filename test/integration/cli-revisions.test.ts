// The CLI and revisions (issue #13): "show" names an entry's revision (and "--json" gives the
// whole entry), and "rm --if-revision N" deletes only what the person looked at.
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { crewvault, type CliResult } from '../support/cli';
import { tempFolder } from '../support/vault';

const PW = 'pw for the tests';
let vault: string;

function as(input: string, ...args: string[]): CliResult {
  return crewvault([...args.slice(0, 1), '--vault', vault, ...args.slice(1)], { input });
}

beforeEach(() => {
  vault = path.join(tempFolder(), 'team.crewvault');
  expect(as(`${PW}\n`, 'init', '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1').status).toBe(0);
  expect(as(`${PW}\nhunter2\n`, 'add', '--customer', 'Acme', '--title', 'Router', '--username', 'root', '--password-prompt').status).toBe(0);
});

describe('revisions on the CLI', () => {
  it('show prints the revision, and --json the entry without its secrets unless --reveal', () => {
    expect(as(`${PW}\n`, 'show', 'Acme/Router').stdout).toContain('Revision:  1\n');
    const plain = JSON.parse(as(`${PW}\n`, 'show', 'Acme/Router', '--json').stdout) as Record<string, unknown>;
    expect(plain).toMatchObject({ customer: 'Acme', title: 'Router', username: 'root', revision: 1, hasPassword: true });
    expect(plain).not.toHaveProperty('password');
    expect(JSON.parse(as(`${PW}\n`, 'show', 'Acme/Router', '--json', '--reveal').stdout)).toMatchObject({ password: 'hunter2' });
  });

  it('rm --if-revision deletes only the revision named: a stale one is CONFLICT and nothing is deleted', () => {
    const stale = as(`${PW}\n`, 'rm', 'Acme/Router', '--if-revision', '2');
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/^crewvault: CONFLICT: This entry was changed since you opened it \(revision 2, now 1\)[^\n]*\n$/);
    expect(as(`${PW}\n`, 'show', 'Acme/Router').status).toBe(0);
    expect(as(`${PW}\n`, 'rm', 'Acme/Router', '--if-revision', 'one').stderr).toMatch(/^crewvault: USAGE: --if-revision is a revision number/);
    expect(as(`${PW}\n`, 'rm', 'Acme/Router', '--if-revision', '1')).toMatchObject({ status: 0, stdout: 'Deleted Acme/Router and its secrets.\n' });
  });
});
