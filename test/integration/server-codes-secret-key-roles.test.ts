/**
 * Review finding D2 on a desktop: in a group set to "server computes codes" only a role that may
 * reveal OTP keys (otp.reveal_secret) holds the group's secret key (shared/policy mayHoldSecretKeyIn,
 * group-keys.ts needsSecretKeyIn). Turning the setting on rotates the group and wraps the new secret
 * key for the technician but neither for a custom role with passwords.reveal and otp.view nor for a
 * password-only one (the vault file read as stored), nor for either granted afterwards; their
 * password reveal there is refused (FORBIDDEN), their entry still listed. Real vault file, real crypto.
 * Must never print a password or a key.
 */
import { describe, expect, it } from 'vitest';
import type { EntrySummary, GroupSummary } from '../../shared/model';
import { errorCode, newRouter, ok } from '../support/router';
import { OWNER, PASSWORD } from '../support/vault';
import { withBase } from '../support/base-revision';
import { secretHolders } from '../support/secret-holders';

const PEOPLE = [['dana', 'Deskpass'], ['pia', 'Passwords'], ['tom', 'technician'], ['dora', 'Deskpass'], ['paul', 'Passwords']] as const;

describe('a server-codes group\'s secret key and roles without otp.reveal_secret (D2)', () => {
  it('goes to neither a passwords-and-codes role nor a password-only role, on turning on or granting after', async () => {
    const { router, vaultPath } = newRouter();
    const as = async (name: string): Promise<void> => {
      ok(await router.call('session.signIn', { username: name, password: name === OWNER ? PASSWORD : `${name} password` }));
    };
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    ok(await router.call('roles.define', { name: 'Deskpass', permissions: ['entries.view', 'passwords.reveal', 'otp.view'], baseRevision: 0 }));
    ok(await router.call('roles.define', { name: 'Passwords', permissions: ['entries.view', 'passwords.reveal'], baseRevision: 0 }));
    for (const [username, role] of PEOPLE) ok(await router.call('users.create', { username, role, password: `${username} one-time` }));
    for (const [name] of PEOPLE) {
      ok(await router.call('session.signIn', { username: name, password: `${name} one-time` }));
      ok(await router.call('session.changePassword', { current: `${name} one-time`, next: `${name} password` }));
    }
    await as(OWNER);
    const night = ok(await router.call('groups.create', { name: 'Night shift' })) as GroupSummary;
    for (const name of ['dana', 'pia', 'tom']) ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id: night.id, username: name })));
    const entry = ok(await router.call('entries.create', { customer: 'Acme', title: 'Firewall', password: 'fw-123', groupId: night.id, otp: { secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' } })) as EntrySummary;
    const before = secretHolders(vaultPath, night.id);
    expect(before.secret).toEqual(expect.arrayContaining(['dana', 'pia', 'tom']));

    ok(await router.call('groups.setServerCodes', await withBase(router, 'groups.setServerCodes', { id: night.id, on: true })));
    for (const name of ['dora', 'paul']) ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id: night.id, username: name })));
    const on = secretHolders(vaultPath, night.id);
    expect(on.version).toBe(before.version + 1);
    expect(on.members).toEqual(expect.arrayContaining(['dana', 'dora', 'paul', 'pia', 'tom']));
    expect(on.secret).toContain('tom');
    for (const name of ['dana', 'dora', 'paul', 'pia']) expect(on.secret, name).not.toContain(name);

    await as('dana');
    expect(ok(await router.call('entries.get', { id: entry.id }))).toMatchObject({ id: entry.id, title: 'Firewall' });
    expect(errorCode(await router.call('secrets.reveal', { id: entry.id, what: 'password' }))).toBe('FORBIDDEN');
    await as('tom');
    expect(ok(await router.call('secrets.reveal', { id: entry.id, what: 'password' }))).toBeTruthy();
  });
});
