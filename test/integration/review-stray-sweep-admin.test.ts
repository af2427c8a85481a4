/**
 * Review probe (hostile review 2, change 693aeff): stray secret-key wraps in a server-codes group
 * (a vault from before shared/policy mayHoldSecretKeyIn narrowed who holds them) are taken only
 * at an owner's sign-in (VaultSession.finishKeySplit returns 0 for anyone else). An admin holds
 * every group's keys too (ALL_GROUP_ROLES) and may rotate any group; in a team whose owner account
 * is kept for emergencies and never signs in on a desktop, the codes-only role keeps the secret
 * key for good, and since the server no longer refuses a push for it nothing ever tells anyone.
 * Expected: an admin's sign-in takes them as an owner's does. Real vault file, real crypto.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { GroupSummary } from '../../shared/model';
import { ok, newRouter } from '../support/router';
import { OWNER, PASSWORD } from '../support/vault';
import { withBase } from '../support/base-revision';
import { secretHolders } from '../support/secret-holders';

describe('review probe: stray secret keys and an admin\'s sign-in', () => {
  it('are taken by a rotation at an admin\'s sign-in too', async () => {
    const { router, vaultPath } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    ok(await router.call('roles.define', { name: 'Deskpass', permissions: ['entries.view', 'passwords.reveal', 'otp.view'], baseRevision: 0 }));
    for (const [username, role] of [['dana', 'Deskpass'], ['ada', 'admin']] as const) ok(await router.call('users.create', { username, role, password: `${username} one-time` }));
    for (const username of ['dana', 'ada']) {
      ok(await router.call('session.signIn', { username, password: `${username} one-time` }));
      ok(await router.call('session.changePassword', { current: `${username} one-time`, next: `${username} password` }));
    }
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    const night = ok(await router.call('groups.create', { name: 'Night shift' })) as GroupSummary;
    ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id: night.id, username: 'dana' })));
    ok(await router.call('entries.create', { customer: 'Acme', title: 'Firewall', password: 'fw-123', groupId: night.id, otp: { secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' } }));
    ok(await router.call('session.lock', {}));
    // The state a vault set up before the rule is in: Night shift computes codes on the server, Dana holds its secret key.
    const db = new Database(vaultPath);
    db.prepare('UPDATE access_groups SET server_codes = 1 WHERE id = ?').run(night.id);
    db.close();
    const before = secretHolders(vaultPath, night.id);
    expect(before.secret).toContain('dana');
    expect(before.members).toContain('ada');

    ok(await router.call('session.signIn', { username: 'ada', password: 'ada password' }));
    const after = secretHolders(vaultPath, night.id);
    expect(after.secret).not.toContain('dana');
    expect(after.version).toBe(before.version + 1);
  });
});
