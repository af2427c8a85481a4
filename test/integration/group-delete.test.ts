// Deleting an access group (#11) through the router over a real vault file, and through the
// real CLI binary: who may (owners and admins, a lead of that group; not a lead of another
// group, a technician or an auditor), what is refused with nothing changed (a group that still
// holds entries, the default group, the last group), and what is left (a tombstone with no
// name, no name index, no wrapped key, no list page, one more revision) with its audit row.
// Never prints a password; the vault file is read with better-sqlite3 as stored.
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditRecord, EntrySummary, GroupSummary } from '../../shared/model';
import { crewvault } from '../support/cli';
import { errorCode, newRouter, ok } from '../support/router';
import { OWNER, PASSWORD, tempFolder } from '../support/vault';
import { withBase } from '../support/base-revision';

const PEOPLE = [['adam', 'admin'], ['lena', 'team_lead'], ['luke', 'team_lead'], ['tom', 'technician'], ['audrey', 'auditor']] as const;

async function team() {
  const setup = newRouter();
  const { router } = setup;
  ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
  for (const [username, role] of PEOPLE) ok(await router.call('users.create', { username, role, password: `${username} one-time` }));
  for (const [name] of PEOPLE) {
    ok(await router.call('session.signIn', { username: name, password: `${name} one-time` }));
    ok(await router.call('session.changePassword', { current: `${name} one-time`, next: `${name} password` }));
  }
  const as = async (name: string): Promise<void> => {
    ok(await router.call('session.signIn', { username: name, password: name === OWNER ? PASSWORD : `${name} password` }));
  };
  // Lena leads Night shift; tom and audrey are members of it; luke leads another group.
  await as('lena');
  const night = ok(await router.call('groups.create', { name: 'Night shift' })) as GroupSummary;
  ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id: night.id, username: 'tom' })));
  ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id: night.id, username: 'audrey' })));
  await as('luke');
  ok(await router.call('groups.create', { name: 'Day shift' }));
  return { ...setup, as, id: night.id };
}

interface StoredGroup {
  readonly uid: Buffer;
  readonly revision: number;
  readonly sealed_name: Buffer;
  readonly name_index: Buffer;
  readonly deleted_at: number | null;
}

/** What the vault file holds of group `id`, read as stored. */
function stored(vaultPath: string, id: number): { group: StoredGroup | undefined; keys: number; pages: number; audits: number } {
  const db = new Database(vaultPath, { readonly: true });
  try {
    const group = db.prepare('SELECT uid, revision, sealed_name, name_index, deleted_at FROM access_groups WHERE id = ?').get(id) as StoredGroup | undefined;
    const count = (sql: string): number => (db.prepare(sql).get(id) as { n: number }).n;
    return {
      group,
      keys: count('SELECT count(*) AS n FROM group_keys WHERE group_id = ?'),
      pages: count('SELECT count(*) AS n FROM entry_pages WHERE group_id = ?'),
      audits: count("SELECT count(*) AS n FROM audit_log WHERE group_id = ? AND action = 'group.delete'"),
    };
  } finally {
    db.close();
  }
}

const names = (groups: GroupSummary[]): string[] => groups.map((g) => g.name);

describe('deleting an access group', () => {
  it('is for owners, admins and the group\'s own leads; anyone else is refused and nothing changes', async () => {
    for (const [who, allowed] of [['tom', false], ['audrey', false], ['luke', false], ['lena', true], ['adam', true], [OWNER, true]] as const) {
      const { router, as, id, vaultPath } = await team();
      const before = stored(vaultPath, id);
      await as(who);
      const reply = await router.call('groups.delete', await withBase(router, 'groups.delete', { id }));
      if (allowed) {
        expect(ok(reply), who).toEqual({ deleted: 'Night shift' });
        expect(stored(vaultPath, id).group?.deleted_at, who).not.toBeNull();
      } else {
        expect(errorCode(reply), who).toBe('FORBIDDEN');
        expect(stored(vaultPath, id), who).toEqual(before);
      }
    }
  });

  it('leaves a tombstone that keeps no name, no index, no key and no page, one revision on, audited with the name it had', async () => {
    const { router, as, id, vaultPath } = await team();
    await as('lena');
    // An entry made and deleted leaves an entry tombstone behind: it does not keep the group alive.
    const entry = ok(await router.call('entries.create', { customer: 'Acme', title: 'Night door', password: 'door-123', groupId: id })) as EntrySummary;
    ok(await router.call('entries.delete', { id: entry.id, baseRevision: entry.revision }));
    const before = stored(vaultPath, id);
    expect(before.keys).toBeGreaterThan(0);
    expect(before.group?.sealed_name.length).toBeGreaterThan(0);

    expect(ok(await router.call('groups.delete', await withBase(router, 'groups.delete', { id })))).toEqual({ deleted: 'Night shift' });
    const after = stored(vaultPath, id);
    expect(after.group?.deleted_at).not.toBeNull();
    expect(after.group?.sealed_name.length).toBe(0);
    expect(after.group?.name_index.equals(after.group.uid)).toBe(true);
    expect(after.group?.revision).toBe((before.group?.revision ?? 0) + 1);
    expect({ keys: after.keys, pages: after.pages, audits: after.audits }).toEqual({ keys: 0, pages: 0, audits: 1 });

    // Gone from every list, even an owner's; the name is free again; the audit says who and what.
    expect(names(ok(await router.call('groups.list', {})) as GroupSummary[])).not.toContain('Night shift');
    expect(errorCode(await router.call('groups.members', { id }))).toBe('FORBIDDEN');
    await as(OWNER);
    expect(names(ok(await router.call('groups.list', {})) as GroupSummary[])).toEqual(['Day shift', 'Default']);
    expect(errorCode(await router.call('groups.delete', await withBase(router, 'groups.delete', { id })))).toBe('NOT_FOUND');
    expect(ok(await router.call('groups.create', { name: 'Night shift' }))).toMatchObject({ name: 'Night shift' });
    const audit = ok(await router.call('audit.list', {})) as AuditRecord[];
    expect(audit.filter((a) => a.action === 'group.delete')).toEqual([expect.objectContaining({ actor: 'lena', detail: 'Night shift' })]);
  });

  it('a session that still holds a deleted group\'s key puts no entry in it', async () => {
    const { router, as, id, vaultPath } = await team();
    await as('lena');
    // Another session on the same vault file (another window, the CLI) deletes the group meanwhile.
    const other = newRouter(vaultPath).router;
    ok(await other.call('session.signIn', { username: OWNER, password: PASSWORD }));
    expect(ok(await other.call('groups.delete', await withBase(other, 'groups.delete', { id })))).toEqual({ deleted: 'Night shift' });
    // Its permission check reads the keys the person holds now: none of a deleted group.
    expect(errorCode(await router.call('entries.create', { customer: 'Acme', title: 'Night door', password: 'door-123', groupId: id }))).toBe('FORBIDDEN');
    const db = new Database(vaultPath, { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM entries WHERE group_id = ?').get(id)).toEqual({ n: 0 });
    db.close();
  });

  it('refuses a group that still holds entries, saying how many to move first, and changes nothing', async () => {
    const { router, as, id, vaultPath } = await team();
    await as('lena');
    ok(await router.call('entries.create', { customer: 'Acme', title: 'Night door', password: 'door-123', groupId: id }));
    expect(await router.call('groups.delete', await withBase(router, 'groups.delete', { id }))).toEqual({ ok: false, error: { code: 'INVALID_INPUT', message: 'Night shift still holds 1 entry: move it to another group first.' } });
    ok(await router.call('entries.create', { customer: 'Acme', title: 'Night alarm', password: 'alarm-123', groupId: id }));
    const before = stored(vaultPath, id);
    await as(OWNER);
    expect(await router.call('groups.delete', await withBase(router, 'groups.delete', { id }))).toEqual({ ok: false, error: { code: 'INVALID_INPUT', message: 'Night shift still holds 2 entries: move them to another group first.' } });
    expect(stored(vaultPath, id)).toEqual(before);
    expect(names(ok(await router.call('groups.list', {})) as GroupSummary[])).toContain('Night shift');
  });

  it('never deletes the default group', async () => {
    const { router, as, vaultPath } = await team();
    await as(OWNER);
    const groups = ok(await router.call('groups.list', {})) as GroupSummary[];
    const fallback = groups.find((g) => g.name === 'Default');
    if (!fallback) throw new Error('no Default group');
    const before = stored(vaultPath, fallback.id);
    expect(await router.call('groups.delete', await withBase(router, 'groups.delete', { id: fallback.id }))).toEqual({ ok: false, error: { code: 'FORBIDDEN', message: 'Default is the vault\'s default group (new people join it): it cannot be deleted.' } });
    expect(stored(vaultPath, fallback.id)).toEqual(before);
  });

  it('never deletes a vault\'s last group, even one no setting names the default', async () => {
    const { router, vaultPath } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const [only] = ok(await router.call('groups.list', {})) as GroupSummary[];
    if (!only) throw new Error('no group');
    // A vault from before the setting (or one whose setting was lost): only the last-group rule stands.
    const db = new Database(vaultPath);
    db.prepare("DELETE FROM settings WHERE key = 'default_group_id'").run();
    db.close();
    const before = stored(vaultPath, only.id);
    expect(await router.call('groups.delete', await withBase(router, 'groups.delete', { id: only.id }))).toEqual({ ok: false, error: { code: 'FORBIDDEN', message: 'Default is the vault\'s last group: it cannot be deleted.' } });
    expect(stored(vaultPath, only.id)).toEqual(before);
  });
});

describe('crewvault group delete', () => {
  const ALICE = 'alice pass 123';

  it('deletes an empty group by name, refuses a full one with the count, and completes the subcommand', () => {
    const vault = path.join(tempFolder(), 'team.crewvault');
    const run = (...args: string[]) => {
      const [command = '', ...rest] = args;
      return crewvault([command, '--vault', vault, '--as', 'alice', ...rest], { input: `${ALICE}\n` });
    };
    expect(crewvault(['init', '--vault', vault, '--user', 'alice', '--kdf-memory', '1024', '--kdf-iterations', '1'], { input: `${ALICE}\n` }).status).toBe(0);
    expect(run('group', 'add', 'Night shift').status).toBe(0);
    expect(run('group', 'add', 'Day shift').status).toBe(0);
    expect(run('add', '--customer', 'Acme', '--title', 'VPN', '--group', 'Day shift').status).toBe(0);

    expect(run('group', 'delete', 'day SHIFT')).toMatchObject({ status: 1, stdout: '', stderr: 'crewvault: INVALID_INPUT: Day shift still holds 1 entry: move it to another group first.\n' });
    expect(run('group', 'delete', 'Default').stderr).toContain('FORBIDDEN');
    expect(run('group', 'delete', 'Night shift')).toMatchObject({ status: 0, stdout: 'Deleted group Night shift.\n' });
    expect(run('group', 'list').stdout).not.toContain('Night shift');
    expect(run('group', 'delete', 'Night shift')).toMatchObject({ status: 1, stderr: 'crewvault: NOT_FOUND: No access group named "Night shift".\n' });
    expect(run('group', 'delete')).toMatchObject({ status: 2 });
    expect(crewvault(['completion', 'bash']).stdout).toMatch(/\bdelete\b/);
  });
});
