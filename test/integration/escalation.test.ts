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
  owner.team.defineRole('helpdesk', ['users.manage', 'entries.view']);
  owner.team.defineRole('viewer', ['entries.view']);
  owner.team.defineRole('senior', ['users.manage', 'entries.view', 'passwords.reveal']);
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
  return { owner, vault, as, roleOf: (name: string) => vault.users().find((u) => u.name === name)?.role };
}

describe('a custom role with users.manage', () => {
  it('cannot make itself or anyone admin, owner or a role with more permissions', async () => {
    const { as, roleOf } = await staff();
    const hank = await as('hank');
    for (const role of ['admin', 'owner', 'technician', 'team_lead', 'senior']) {
      expect(() => hank.team.changeRole('hank', role), role).toThrow(forbidden);
      expect(() => hank.team.changeRole('vera', role), role).toThrow(forbidden);
    }
    expect(roleOf('hank')).toBe('helpdesk');
    expect(roleOf('vera')).toBe('viewer');
    await expect(hank.createUser('mallory', 'admin', 'mallory password', FAST_KDF)).rejects.toThrow(forbidden);
    await expect(hank.createUser('mallory', 'technician', 'mallory password', FAST_KDF)).rejects.toThrow(forbidden);
    expect(roleOf('mallory')).toBeUndefined();
  });

  it('may give roles within its own permissions, to people within them', async () => {
    const { as, roleOf } = await staff();
    const hank = await as('hank');
    expect(hank.team.changeRole('vera', 'helpdesk').role).toBe('helpdesk');
    expect(roleOf('vera')).toBe('helpdesk');
    await hank.createUser('val', 'viewer', 'val password', FAST_KDF);
    expect(roleOf('val')).toBe('viewer');
  });

  it('never changes its own role, even downwards', async () => {
    const { as } = await staff();
    const hank = await as('hank');
    expect(() => hank.team.changeRole('hank', 'viewer')).toThrow(forbidden);
    const adam = await as('adam');
    expect(() => adam.team.changeRole('adam', 'technician')).toThrow(forbidden);
  });

  it('cannot define, or redefine, a role beyond its own permissions; nor redefine its own role', async () => {
    const { as, owner } = await staff();
    const hank = await as('hank');
    expect(() => hank.team.defineRole('super', ['users.manage', 'passwords.reveal'])).toThrow(forbidden);
    expect(() => hank.team.defineRole('helpdesk', ['users.manage', 'entries.view', 'audit.read'])).toThrow(forbidden);
    expect(() => hank.team.defineRole('helpdesk', ['entries.view'])).toThrow(forbidden);
    // "senior" allows passwords.reveal, which hank lacks: stripping it would act on those above.
    expect(() => hank.team.defineRole('senior', ['entries.view'])).toThrow(forbidden);
    expect(owner.team.listRoles().find((r) => r.name === 'senior')?.permissions).toContain('passwords.reveal');
    expect(hank.team.defineRole('desk', ['entries.view']).permissions).toEqual(['entries.view']);
  });

  it('cannot act on someone whose role allows more: disable, reset MFA, emergency code', async () => {
    const { as, vault } = await staff();
    const hank = await as('hank');
    for (const target of ['tom', 'sam', 'adam', 'olga']) {
      expect(() => hank.team.disableUser(target), target).toThrow(forbidden);
      expect(() => hank.mfa.resetFor(target), target).toThrow(forbidden);
      expect(() => hank.mfa.issueEmergencyCode(target), target).toThrow(forbidden);
    }
    expect(vault.users().map((u) => u.name)).toContain('tom');
    // Someone within hank's permissions: allowed. Disabling also rotates the keys of vera's
    // groups, which re-seals their secrets: hank, who holds no secret key, cannot.
    hank.mfa.resetFor('vera');
    expect(() => hank.team.disableUser('vera')).toThrow(expect.objectContaining({ code: 'FORBIDDEN', message: expect.stringContaining('secret key') as unknown }) as unknown);
    expect(vault.users().map((u) => u.name)).toContain('vera');
  });
});

describe('admins and owners', () => {
  it('an admin never acts on an owner, nor makes an admin or owner', async () => {
    const { as, roleOf } = await staff();
    const adam = await as('adam');
    expect(() => adam.team.changeRole('olga', 'technician')).toThrow(forbidden);
    expect(() => adam.team.disableUser('olga')).toThrow(forbidden);
    expect(() => adam.mfa.resetFor('olga')).toThrow(forbidden);
    expect(() => adam.mfa.issueEmergencyCode('olga')).toThrow(forbidden);
    expect(() => adam.mfa.resetFor(OWNER)).toThrow(forbidden);
    await expect(adam.team.resetPassword('olga', 'new olga password', FAST_KDF)).rejects.toThrow(forbidden);
    expect(() => adam.team.changeRole('tom', 'admin')).toThrow(forbidden);
    await expect(adam.createUser('ada', 'admin', 'ada password', FAST_KDF)).rejects.toThrow(forbidden);
    expect(roleOf('olga')).toBe('owner');
    expect(roleOf('tom')).toBe('technician');
    // What an admin may do: act on those below.
    expect(adam.team.changeRole('tom', 'team_lead').role).toBe('team_lead');
    expect(adam.mfa.issueEmergencyCode('tom')).toMatch(/^[A-Z]{6}$/);
  });

  it('an owner makes admins and owners, and acts on other owners', async () => {
    const { owner, roleOf } = await staff();
    expect(owner.team.changeRole('tom', 'admin').role).toBe('admin');
    expect(owner.team.changeRole('olga', 'technician').role).toBe('technician');
    expect(roleOf('tom')).toBe('admin');
    expect(() => owner.team.changeRole(OWNER, 'admin')).toThrow(forbidden);
    expect(roleOf(OWNER)).toBe('owner');
  });
});

describe('role names as people type them', () => {
  it('"Technician", "Team lead" and "team-lead" name the built-in roles; an unknown one lists the valid ones', async () => {
    const { owner, roleOf } = await staff();
    expect(owner.team.changeRole('tom', 'Team lead').role).toBe('team_lead');
    expect(roleOf('tom')).toBe('team_lead');
    expect(owner.team.changeRole('tom', 'TECHNICIAN').role).toBe('technician');
    expect(owner.team.changeRole('vera', 'Help-Desk').role).toBe('helpdesk');
    expect(() => owner.team.changeRole('tom', 'wizard')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('one of owner, admin, team_lead, technician, codes_only, auditor') as unknown }) as unknown);
    owner.mfa.setPolicy('required', 'Codes Only');
    expect(owner.mfa.policy().roles).toEqual({ codes_only: 'required' });
  });
});
