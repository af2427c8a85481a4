// Climbing through users.manage (issue #10, finding 1), as a class: a role that may manage users
// is not an admin. Nobody gives a role beyond their own permissions, only owners make owners and
// admins, nobody changes their own role, and nobody acts on someone above them — checked in the
// vault (the service), so every door gets the same answer.
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import type { VaultSession } from '../../electron/vault/service';
import { FAST_KDF, manualClock, newVault, OWNER } from '../support/vault';

const forbidden: unknown = expect.objectContaining({ code: 'FORBIDDEN' });

async function staff() {
  const clock = manualClock();
  const { file, session: owner } = await newVault(clock);
  await owner.team.defineRole('helpdesk', ['users.manage', 'entries.view'], await owner.team.roleRevision('helpdesk'));
  await owner.team.defineRole('viewer', ['entries.view'], await owner.team.roleRevision('viewer'));
  await owner.team.defineRole('senior', ['users.manage', 'entries.view', 'passwords.reveal'], await owner.team.roleRevision('senior'));
  for (const [name, role] of [['hank', 'helpdesk'], ['vera', 'viewer'], ['tom', 'technician'], ['adam', 'admin'], ['olga', 'owner'], ['sam', 'senior']] as const) {
    await owner.createUser(name, role, `${name} password`, FAST_KDF);
  }
  const vault = Vault.open(file, clock);
  const as = async (name: string): Promise<VaultSession> => {
    const session = await vault.signIn(name, `${name} password`);
    // The one-time password is not what is under test here.
    await session.changePassword(`${name} password`, `${name} own password`, FAST_KDF);
    return session;
  };
  return { owner, vault, as, roleOf: async (name: string) => (await vault.users()).find((u) => u.name === name)?.role };
}

describe('a custom role with users.manage', () => {
  it('cannot make itself or anyone admin, owner or a role with more permissions', async () => {
    const { as, roleOf } = await staff();
    const hank = await as('hank');
    for (const role of ['admin', 'owner', 'technician', 'team_lead', 'senior']) {
      await expect(hank.team.changeRole('hank', role, await hank.team.userRevision('hank')), role).rejects.toThrow(forbidden);
      await expect(hank.team.changeRole('vera', role, await hank.team.userRevision('vera')), role).rejects.toThrow(forbidden);
    }
    expect(await roleOf('hank')).toBe('helpdesk');
    expect(await roleOf('vera')).toBe('viewer');
    await expect(hank.createUser('mallory', 'admin', 'mallory password', FAST_KDF)).rejects.toThrow(forbidden);
    await expect(hank.createUser('mallory', 'technician', 'mallory password', FAST_KDF)).rejects.toThrow(forbidden);
    expect(await roleOf('mallory')).toBeUndefined();
  });

  it('may give roles within its own permissions, to people within them', async () => {
    const { as, roleOf } = await staff();
    const hank = await as('hank');
    expect((await hank.team.changeRole('vera', 'helpdesk', await hank.team.userRevision('vera'))).role).toBe('helpdesk');
    expect(await roleOf('vera')).toBe('helpdesk');
    await hank.createUser('val', 'viewer', 'val password', FAST_KDF);
    expect(await roleOf('val')).toBe('viewer');
  });

  it('never changes its own role, even downwards', async () => {
    const { as } = await staff();
    const hank = await as('hank');
    await expect(hank.team.changeRole('hank', 'viewer', await hank.team.userRevision('hank'))).rejects.toThrow(forbidden);
    const adam = await as('adam');
    await expect(adam.team.changeRole('adam', 'technician', await adam.team.userRevision('adam'))).rejects.toThrow(forbidden);
  });

  it('cannot define, or redefine, a role beyond its own permissions; nor redefine its own role', async () => {
    const { as, owner } = await staff();
    const hank = await as('hank');
    await expect(hank.team.defineRole('super', ['users.manage', 'passwords.reveal'], await hank.team.roleRevision('super'))).rejects.toThrow(forbidden);
    await expect(hank.team.defineRole('helpdesk', ['users.manage', 'entries.view', 'audit.read'], await hank.team.roleRevision('helpdesk'))).rejects.toThrow(forbidden);
    await expect(hank.team.defineRole('helpdesk', ['entries.view'], await hank.team.roleRevision('helpdesk'))).rejects.toThrow(forbidden);
    // "senior" allows passwords.reveal, which hank lacks: stripping it would act on those above.
    await expect(hank.team.defineRole('senior', ['entries.view'], await hank.team.roleRevision('senior'))).rejects.toThrow(forbidden);
    expect((await owner.team.listRoles()).find((r) => r.name === 'senior')?.permissions).toContain('passwords.reveal');
    expect((await hank.team.defineRole('desk', ['entries.view'], await hank.team.roleRevision('desk'))).permissions).toEqual(['entries.view']);
  });

  it('cannot act on someone whose role allows more: disable, reset MFA, emergency code', async () => {
    const { as, vault } = await staff();
    const hank = await as('hank');
    for (const target of ['tom', 'sam', 'adam', 'olga']) {
      await expect(hank.team.disableUser(target, await hank.team.userRevision(target)), target).rejects.toThrow(forbidden);
      await expect(hank.mfa.resetFor(target), target).rejects.toThrow(forbidden);
      await expect(hank.mfa.issueEmergencyCode(target), target).rejects.toThrow(forbidden);
    }
    expect((await vault.users()).map((u) => u.name)).toContain('tom');
    // Someone within hank's permissions: allowed. Disabling also rotates the keys of vera's
    // groups, which re-seals their secrets: hank, who holds no secret key, cannot.
    await hank.mfa.resetFor('vera');
    await expect(hank.team.disableUser('vera', await hank.team.userRevision('vera'))).rejects.toThrow(expect.objectContaining({ code: 'FORBIDDEN', message: expect.stringContaining('secret key') as unknown }) as unknown);
    expect((await vault.users()).map((u) => u.name)).toContain('vera');
  });
});

describe('admins and owners', () => {
  it('an admin never acts on an owner, nor makes an admin or owner', async () => {
    const { as, roleOf } = await staff();
    const adam = await as('adam');
    await expect(adam.team.changeRole('olga', 'technician', await adam.team.userRevision('olga'))).rejects.toThrow(forbidden);
    await expect(adam.team.disableUser('olga', await adam.team.userRevision('olga'))).rejects.toThrow(forbidden);
    await expect(adam.mfa.resetFor('olga')).rejects.toThrow(forbidden);
    await expect(adam.mfa.issueEmergencyCode('olga')).rejects.toThrow(forbidden);
    await expect(adam.mfa.resetFor(OWNER)).rejects.toThrow(forbidden);
    await expect(adam.team.resetPassword('olga', 'new olga password', await adam.team.userRevision('olga'), FAST_KDF)).rejects.toThrow(forbidden);
    await expect(adam.team.changeRole('tom', 'admin', await adam.team.userRevision('tom'))).rejects.toThrow(forbidden);
    await expect(adam.createUser('ada', 'admin', 'ada password', FAST_KDF)).rejects.toThrow(forbidden);
    expect(await roleOf('olga')).toBe('owner');
    expect(await roleOf('tom')).toBe('technician');
    // What an admin may do: act on those below.
    expect((await adam.team.changeRole('tom', 'team_lead', await adam.team.userRevision('tom'))).role).toBe('team_lead');
    expect(await adam.mfa.issueEmergencyCode('tom')).toMatch(/^[A-Z]{6}$/);
  });

  it('an owner makes admins and owners, and acts on other owners', async () => {
    const { owner, roleOf } = await staff();
    expect((await owner.team.changeRole('tom', 'admin', await owner.team.userRevision('tom'))).role).toBe('admin');
    expect((await owner.team.changeRole('olga', 'technician', await owner.team.userRevision('olga'))).role).toBe('technician');
    expect(await roleOf('tom')).toBe('admin');
    await expect(owner.team.changeRole(OWNER, 'admin', await owner.team.userRevision(OWNER))).rejects.toThrow(forbidden);
    expect(await roleOf(OWNER)).toBe('owner');
  });
});

describe('role names as people type them', () => {
  it('"Technician", "Team lead" and "team-lead" name the built-in roles; an unknown one lists the valid ones', async () => {
    const { owner, roleOf } = await staff();
    expect((await owner.team.changeRole('tom', 'Team lead', await owner.team.userRevision('tom'))).role).toBe('team_lead');
    expect(await roleOf('tom')).toBe('team_lead');
    expect((await owner.team.changeRole('tom', 'TECHNICIAN', await owner.team.userRevision('tom'))).role).toBe('technician');
    expect((await owner.team.changeRole('vera', 'Help-Desk', await owner.team.userRevision('vera'))).role).toBe('helpdesk');
    await expect(owner.team.changeRole('tom', 'wizard', await owner.team.userRevision('tom'))).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('one of owner, admin, team_lead, technician, codes_only, auditor') as unknown }) as unknown);
    await owner.mfa.setPolicy('required', 'Codes Only', (await owner.mfa.policy()).revision);
    expect((await owner.mfa.policy()).roles).toEqual({ codes_only: 'required' });
  });
});
