/**
 * Review finding D4 on a desktop: a lead whose role may not hold a group's secret key there does
 * not rotate the group nor wrap its secret key for anyone, whatever its ring still holds. The state
 * is one a desktop passes through: a custom role narrowed on an owner's desktop (to a codes-only
 * lead) arrives as a role record before the rotation that takes the secret key from its holder —
 * written here into the real vault file as taking that record in writes it. The lead's revoke (a
 * rotation) and its grant of a technician are refused (FORBIDDEN, naming the secret key) and
 * nothing changes; a grant of the list key alone still goes. Real vault file, real crypto.
 * Must never print a password or a key.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { GroupSummary } from '../../shared/model';
import { errorCode, newRouter, ok } from '../support/router';
import { OWNER, PASSWORD } from '../support/vault';
import { withBase } from '../support/base-revision';

const PEOPLE = [['lena', 'Codelead'], ['tom', 'technician'], ['nina', 'technician'], ['cody', 'codes_only']] as const;
const LEAD = ['entries.view', 'passwords.reveal', 'otp.view', 'otp.reveal_secret', 'entries.create', 'entries.edit', 'entries.delete', 'groups.manage'];
const CODES_ONLY_LEAD = ['entries.view', 'otp.view', 'groups.manage'];

/** Group `id`'s key version and who holds its secret key, as the vault file stores them. */
function keysOf(vaultPath: string, id: number): { version: number; secret: string[]; members: string[] } {
  const db = new Database(vaultPath, { readonly: true });
  try {
    const { key_version: version } = db.prepare('SELECT key_version FROM access_groups WHERE id = ?').get(id) as { key_version: number };
    const rows = db.prepare('SELECT u.name AS user, gk.wrapped_secret_key IS NOT NULL AS secret FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ? ORDER BY u.name').all(id) as Array<{ user: string; secret: number }>;
    return { version, secret: rows.filter((r) => r.secret === 1).map((r) => r.user), members: rows.map((r) => r.user) };
  } finally {
    db.close();
  }
}

describe('a lead whose role may not hold a group\'s secret key, on a desktop (D4)', () => {
  it('neither rotates the group nor wraps its secret key for anyone; the list key alone still goes', async () => {
    const { router, vaultPath } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    ok(await router.call('roles.define', { name: 'Codelead', permissions: LEAD, baseRevision: 0 }));
    for (const [username, role] of PEOPLE) ok(await router.call('users.create', { username, role, password: `${username} one-time` }));
    for (const [name] of PEOPLE) {
      ok(await router.call('session.signIn', { username: name, password: `${name} one-time` }));
      ok(await router.call('session.changePassword', { current: `${name} one-time`, next: `${name} password` }));
    }
    ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    const night = ok(await router.call('groups.create', { name: 'Night shift' })) as GroupSummary;
    ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id: night.id, username: 'lena', lead: true })));
    ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id: night.id, username: 'tom' })));
    ok(await router.call('groups.setServerCodes', await withBase(router, 'groups.setServerCodes', { id: night.id, on: true })));
    const before = keysOf(vaultPath, night.id);
    expect(before.secret).toContain('lena');

    // The owner's narrowing of Codelead taken in here, its rotation not yet.
    const db = new Database(vaultPath);
    try {
      db.prepare('UPDATE roles SET permissions = ? WHERE name = ?').run(JSON.stringify(CODES_ONLY_LEAD), 'Codelead');
    } finally {
      db.close();
    }

    ok(await router.call('session.signIn', { username: 'lena', password: 'lena password' }));
    const revoke = await router.call('groups.revoke', await withBase(router, 'groups.revoke', { id: night.id, username: 'tom' }));
    expect(errorCode(revoke)).toBe('FORBIDDEN');
    if (!revoke.ok) expect(revoke.error.message).toContain('secret key');
    const grant = await router.call('groups.grant', await withBase(router, 'groups.grant', { id: night.id, username: 'nina' }));
    expect(errorCode(grant)).toBe('FORBIDDEN');
    expect(keysOf(vaultPath, night.id)).toEqual(before);

    ok(await router.call('groups.grant', await withBase(router, 'groups.grant', { id: night.id, username: 'cody' })));
    const after = keysOf(vaultPath, night.id);
    expect(after).toEqual({ ...before, members: [...before.members, 'cody'].sort() });
  });
});
