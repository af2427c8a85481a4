/**
 * Review of D2, on a desktop: a vault set to "server computes codes" before only roles with
 * otp.reveal_secret held such a group's secret key keeps wraps of it for roles that may no longer
 * hold it there (a Deskpass role: passwords.reveal and otp.view). The owner's next sign-in rotates
 * such a group, re-wrapped by role (VaultSession.finishKeySplit, team.ts takeStraySecretKeys):
 * the stray holder keeps the list key, not the new secret key; audited as vault.secret_keys_taken;
 * an admin's sign-in does the same (an admin holds every group); a technician's sign-in leaves it
 * be. The legacy state is made by turning the setting on in the vault file itself, as a vault from
 * before the rule holds it. Real vault file, real crypto.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { GroupSummary } from '../../shared/model';
import { ok, newRouter } from '../support/router';
import { OWNER, PASSWORD } from '../support/vault';
import { withBase } from '../support/base-revision';
import { secretHolders } from '../support/secret-holders';

/**
 * A vault with Dana (Deskpass) and Tom (technician) in Night shift and Day shift, an entry in Night
 * shift, then Night shift turned to server codes in the file itself, as a vault from before the
 * rule holds it: Dana holds its secret key. Ada is an admin. Signed out.
 */
async function strayVault(): Promise<{ router: ReturnType<typeof newRouter>['router']; vaultPath: string; night: GroupSummary; day: GroupSummary }> {
  const { router, vaultPath } = newRouter();
  ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
  ok(await router.call('roles.define', { name: 'Deskpass', permissions: ['entries.view', 'passwords.reveal', 'otp.view'], baseRevision: 0 }));
  const people = [['dana', 'Deskpass'], ['tom', 'technician'], ['ada', 'admin']] as const;
  for (const [username, role] of people) ok(await router.call('users.create', { username, role, password: `${username} one-time` }));
  for (const [username] of people) {
    ok(await router.call('session.signIn', { username, password: `${username} one-time` }));
    ok(await router.call('session.changePassword', { current: `${username} one-time`, next: `${username} password` }));
  }
  ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
  const night = ok(await router.call('groups.create', { name: 'Night shift' })) as GroupSummary;
  const day = ok(await router.call('groups.create', { name: 'Day shift' })) as GroupSummary;
  for (const group of [night, day]) for (const name of ['dana', 'tom']) ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id: group.id, username: name })));
  ok(await router.call('entries.create', { customer: 'Acme', title: 'Firewall', password: 'fw-123', groupId: night.id, otp: { secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' } }));
  ok(await router.call('session.lock', {}));
  const db = new Database(vaultPath);
  db.prepare('UPDATE access_groups SET server_codes = 1 WHERE id = ?').run(night.id);
  db.close();
  expect(secretHolders(vaultPath, night.id).secret).toEqual(expect.arrayContaining(['dana', 'tom']));
  return { router, vaultPath, night, day };
}

describe('secret keys a role may no longer hold in a server-codes group (review of D2)', () => {
  it('are taken by a rotation at the owner\'s sign-in, not at a technician\'s, and audited', async () => {
    const { router, vaultPath, night, day } = await strayVault();
    const before = secretHolders(vaultPath, night.id);

    ok(await router.call('session.signIn', { username: 'tom', password: 'tom password' }));
    ok(await router.call('session.lock', {}));
    expect(secretHolders(vaultPath, night.id)).toEqual(before);

    const dayBefore = secretHolders(vaultPath, day.id);
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    const after = secretHolders(vaultPath, night.id);
    expect(after.version).toBe(before.version + 1);
    expect(after.members).toEqual(expect.arrayContaining(['dana', 'tom']));
    expect(after.secret).toContain('tom');
    expect(after.secret).not.toContain('dana');
    // A group without the setting keeps Dana's secret key (her role reveals its passwords) and its version.
    expect(secretHolders(vaultPath, day.id)).toEqual(dayBefore);
    const log = ok(await router.call('audit.list', {})) as Array<{ action: string; detail: string }>;
    expect(log.filter((row) => row.action === 'vault.secret_keys_taken')).toHaveLength(1);

    // Once taken, the next owner sign-in has nothing left to do.
    ok(await router.call('session.lock', {}));
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    expect(secretHolders(vaultPath, night.id).version).toBe(after.version);
  });

  // An admin holds every group too: a team whose owner never signs in on a desktop (third review, F2).
  it('are taken at an admin\'s sign-in too', async () => {
    const { router, vaultPath, night } = await strayVault();
    const before = secretHolders(vaultPath, night.id);
    expect(before.members).toContain('ada');
    ok(await router.call('session.signIn', { username: 'ada', password: 'ada password' }));
    const after = secretHolders(vaultPath, night.id);
    expect(after.version).toBe(before.version + 1);
    expect(after.secret).not.toContain('dana');
  });
});
