// Every shared write of a group, membership, custom role or user names the revision its caller
// read (#13, "a write names the revision it was based on; a stale one is refused with CONFLICT"):
// per kind, two sessions on one real vault file — one reads, the other writes, the first writes
// from what it read and is refused, with nothing of its write stored; a door that names no
// revision is INVALID_INPUT; two real processes (this one and the crewvault binary) for groups
// and roles. Real SQLite files, real crypto, real child processes. Must never print a secret.
import { describe, expect, it } from 'vitest';
import { CrewvaultError } from '../../shared/errors';
import type { GroupSummary, UserAdminView } from '../../shared/model';
import type { VaultSession } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';
import { crewvault } from '../support/cli';
import { errorCode, newRouter, ok } from '../support/router';
import { FAST_KDF, newVault, OWNER, PASSWORD } from '../support/vault';

async function codeOf(pending: Promise<unknown>): Promise<string> {
  try {
    await pending;
    return 'ok';
  } catch (error) {
    return error instanceof CrewvaultError ? error.code : String(error);
  }
}

/** A vault with tom (technician) and Night shift (tom a member); `mine` and `theirs` are two sessions of the owner on it. */
async function twoSessions() {
  const { file, session: mine, clock } = await newVault();
  await mine.createUser('tom', 'technician', 'a one-time password for tom', FAST_KDF);
  const night = await mine.team.createGroup('Night shift');
  await mine.team.grant(night.id, 'tom', false, night.revision);
  const elsewhere = Vault.open(file, clock);
  const theirs: VaultSession = await elsewhere.signIn(OWNER, PASSWORD);
  return { file, clock, mine, theirs, night, elsewhere };
}

describe('groups: a write from a stale view of the group is CONFLICT and changes nothing', () => {
  it('rename, delete and grant after someone else renamed it', async () => {
    const { mine, theirs, night } = await twoSessions();
    const seen = (await mine.team.listGroups()).find((g) => g.id === night.id);
    if (!seen) throw new Error('Night shift not listed');
    await theirs.team.renameGroup(night.id, 'Night crew', await theirs.team.groupRevision(night.id));
    const membersBefore = await mine.team.members(night.id);

    expect(await codeOf(mine.team.renameGroup(night.id, 'Late shift', seen.revision))).toBe('CONFLICT');
    expect(await codeOf(mine.team.deleteGroup(night.id, seen.revision))).toBe('CONFLICT');
    await mine.createUser('ann', 'technician', 'a one-time password for ann', FAST_KDF);
    expect(await codeOf(mine.team.grant(night.id, 'ann', false, seen.revision))).toBe('CONFLICT');

    const now = (await mine.team.listGroups()).find((g) => g.id === night.id);
    expect(now).toMatchObject({ name: 'Night crew', revision: seen.revision + 1 });
    expect(await mine.team.members(night.id)).toEqual(membersBefore);
    // The current revision is taken: the rule refuses stale, not every write.
    expect((await mine.team.renameGroup(night.id, 'Late shift', now?.revision ?? 0)).name).toBe('Late shift');
  });

  it('a lead change or removal from a stale view of the membership', async () => {
    const { mine, theirs, night } = await twoSessions();
    const seen = (await mine.team.members(night.id)).find((m) => m.name === 'tom');
    if (!seen) throw new Error('tom not a member');
    await theirs.team.setLead(night.id, 'tom', true, await theirs.team.memberRevision(night.id, 'tom'));

    expect(await codeOf(mine.team.revoke(night.id, 'tom', seen.revision))).toBe('CONFLICT');
    expect(await codeOf(mine.team.setLead(night.id, 'tom', false, seen.revision))).toBe('CONFLICT');
    expect((await mine.team.members(night.id)).find((m) => m.name === 'tom')).toMatchObject({ lead: true, revision: seen.revision + 1 });
  });
});

describe('roles: a definition from a stale view is CONFLICT and changes nothing', () => {
  it('a redefinition after someone else redefined it, and a creation after someone else created it', async () => {
    const { mine, theirs } = await twoSessions();
    await mine.team.defineRole('Night operator', ['entries.view'], 0);
    const seen = (await mine.team.listRoles()).find((r) => r.name === 'Night operator');
    if (!seen) throw new Error('role not listed');
    await theirs.team.defineRole('Night operator', ['entries.view', 'otp.view'], await theirs.team.roleRevision('Night operator'));

    expect(await codeOf(mine.team.defineRole('Night operator', ['entries.view', 'passwords.reveal'], seen.revision))).toBe('CONFLICT');
    expect((await mine.team.listRoles()).find((r) => r.name === 'Night operator')).toMatchObject({ permissions: ['entries.view', 'otp.view'], revision: seen.revision + 1 });

    // Both thought "Day operator" did not exist: the second creation is refused, not a silent redefinition.
    await theirs.team.defineRole('Day operator', ['entries.view'], 0);
    expect(await codeOf(mine.team.defineRole('Day operator', ['entries.view', 'passwords.reveal'], 0))).toBe('CONFLICT');
    expect((await mine.team.listRoles()).find((r) => r.name === 'Day operator')?.permissions).toEqual(['entries.view']);
  });
});

describe('users: a change from a stale view of the person is CONFLICT and changes nothing', () => {
  it('disable, role change and password reset after someone else changed their role', async () => {
    const { file, clock, mine, theirs } = await twoSessions();
    const seen = (await mine.team.listUsers()).find((u) => u.name === 'tom');
    if (!seen) throw new Error('tom not listed');
    await theirs.team.changeRole('tom', 'team_lead', await theirs.team.userRevision('tom'));

    expect(await codeOf(mine.team.disableUser('tom', seen.revision))).toBe('CONFLICT');
    expect(await codeOf(mine.team.changeRole('tom', 'auditor', seen.revision))).toBe('CONFLICT');
    expect(await codeOf(mine.team.resetPassword('tom', 'a new one-time password for tom', seen.revision, FAST_KDF))).toBe('CONFLICT');

    const now = (await mine.team.listUsers()).find((u) => u.name === 'tom');
    expect(now).toMatchObject({ role: 'team_lead', disabled: false, revision: seen.revision + 1 });
    // The password was not reset: tom's own one-time password still opens his key pair.
    const check = Vault.open(file, clock);
    const tom = await check.signIn('tom', 'a one-time password for tom');
    expect(tom.user.name).toBe('tom');
  });
});

describe('the desktop door: no revision is INVALID_INPUT, a stale one CONFLICT, nothing written', () => {
  it('groups.rename, roles.define, users.setRole', async () => {
    const { router, vaultPath, clock } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    ok(await router.call('users.create', { username: 'tom', role: 'technician', password: 'a one-time password for tom' }));
    const group = ok(await router.call('groups.create', { name: 'Night shift' })) as GroupSummary;
    const tom = (ok(await router.call('users.list', {})) as UserAdminView[]).find((u) => u.name === 'tom');
    if (!tom) throw new Error('tom not listed');

    expect(errorCode(await router.call('groups.rename', { id: group.id, name: 'No base' }))).toBe('INVALID_INPUT');
    expect(errorCode(await router.call('roles.define', { name: 'Night operator', permissions: ['entries.view'] }))).toBe('INVALID_INPUT');
    expect(errorCode(await router.call('users.setRole', { username: 'tom', role: 'auditor' }))).toBe('INVALID_INPUT');

    const other = await Vault.open(vaultPath, clock).signIn(OWNER, PASSWORD);
    await other.team.renameGroup(group.id, 'Night crew', group.revision);
    await other.team.changeRole('tom', 'team_lead', tom.revision);
    const stale = await router.call('groups.rename', { id: group.id, name: 'Late shift', baseRevision: group.revision });
    expect(errorCode(stale)).toBe('CONFLICT');
    expect(stale.ok ? '' : stale.error.message).not.toContain('\n');
    expect(errorCode(await router.call('users.setRole', { username: 'tom', role: 'auditor', baseRevision: tom.revision }))).toBe('CONFLICT');
    expect((ok(await router.call('groups.list', {})) as GroupSummary[]).find((g) => g.id === group.id)?.name).toBe('Night crew');
    expect((ok(await router.call('users.list', {})) as UserAdminView[]).find((u) => u.name === 'tom')?.role).toBe('team_lead');
  });
});

describe('two real processes: the crewvault binary writes between this process\'s read and write', () => {
  it('a group rename and a role redefinition made by the CLI make this process\'s stale ones CONFLICT', async () => {
    const { file, mine, night } = await twoSessions();
    await mine.team.defineRole('Night operator', ['entries.view'], 0);
    const seenGroup = (await mine.team.listGroups()).find((g) => g.id === night.id);
    const seenRole = (await mine.team.listRoles()).find((r) => r.name === 'Night operator');
    if (!seenGroup || !seenRole) throw new Error('not listed');

    // Without --if-revision the CLI reads the revision itself just before it writes (a role's
    // redefinition only with --redefine: review round eleven), so its own writes go through.
    const renamed = crewvault(['group', 'rename', 'Night shift', 'Night crew', '--vault', file, '--as', OWNER], { input: `${PASSWORD}\n` });
    expect(renamed.status, renamed.stderr).toBe(0);
    const redefined = crewvault(['role', 'define', 'Night operator', 'entries.view,otp.view', '--redefine', '--vault', file, '--as', OWNER], { input: `${PASSWORD}\n` });
    expect(redefined.status, redefined.stderr).toBe(0);
    expect(`${renamed.stdout}${renamed.stderr}${redefined.stdout}${redefined.stderr}`).not.toContain(PASSWORD);

    expect(await codeOf(mine.team.renameGroup(night.id, 'Late shift', seenGroup.revision))).toBe('CONFLICT');
    expect(await codeOf(mine.team.defineRole('Night operator', ['entries.view', 'passwords.reveal'], seenRole.revision))).toBe('CONFLICT');
    expect((await mine.team.listGroups()).find((g) => g.id === night.id)?.name).toBe('Night crew');
    expect((await mine.team.listRoles()).find((r) => r.name === 'Night operator')?.permissions).toEqual(['entries.view', 'otp.view']);
  }, 60_000);
});


