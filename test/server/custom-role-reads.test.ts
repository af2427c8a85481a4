/**
 * A codes batch reads its askers' custom roles in one statement (server/store/membership.ts
 * customRolePermissionsOf, used by store/codes.ts under the audit's lock): for every role asked,
 * in the order asked, the same permissions as reading each alone (rolePermissionsOf, the read a
 * batch made per role before), on both databases: one name in two vaults with different
 * permissions, a role of one vault asked in another that has none, a record stored under a name's
 * id whose body names another role, and the same role asked twice.
 * Must never: give one vault's role another vault's permissions.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Permission } from '../../shared/policy';
import { vaultObjectId } from '../../shared/sync/records';
import { insertUser } from '../../server/store/accounts';
import { customRolePermissionsOf, rolePermissionsOf } from '../../server/store/membership';
import { migrate } from '../../server/store/migrate';
import { createVault, putRecord } from '../../server/store/sync';
import { DATABASE_KINDS, useTestDatabases } from './databases';

const databases = useTestDatabases();
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

describe.each(DATABASE_KINDS)('custom roles read together on %s', (kind) => {
  it('gives each (vault, role) what reading it alone gives', async () => {
    const db = await databases.open(kind);
    await migrate(db);
    await insertUser(db, { id: 'u1', username: 'Ada', usernameKey: 'ada', role: 'owner', registrationRecord: 'rec', sealedKeys: 'keys', now: 1 });
    const role = (vault: string, id: string, name: string, permissions: readonly Permission[], seq: number): Promise<void> =>
      db.transaction((tx) => putRecord(tx, vault, { id, kind: 'role', revision: 1, seq, body: JSON.stringify({ name, permissions }) }, 'u1'));
    await db.transaction(async (tx) => {
      await createVault(tx, 'v1', 'u1', 1);
      await createVault(tx, 'v2', 'u1', 1);
    });
    await role('v1', vaultObjectId('v1', 'role', sha256Hex, 'Helpdesk'), 'Helpdesk', ['entries.view', 'otp.view'], 1);
    await role('v2', vaultObjectId('v2', 'role', sha256Hex, 'Helpdesk'), 'Helpdesk', ['entries.view'], 1);
    await role('v1', vaultObjectId('v1', 'role', sha256Hex, 'Auditor'), 'Auditor', ['audit.read'], 2);
    // Stored under Ghost's id, but the body names another role: Ghost has no permissions.
    await role('v1', vaultObjectId('v1', 'role', sha256Hex, 'Ghost'), 'Other', ['otp.view'], 3);
    const asks = [
      { vault: 'v1', role: 'Helpdesk' }, { vault: 'v2', role: 'Helpdesk' }, { vault: 'v2', role: 'Auditor' },
      { vault: 'v1', role: 'Ghost' }, { vault: 'v1', role: 'Auditor' }, { vault: 'v1', role: 'Helpdesk' }, { vault: 'v3', role: 'Helpdesk' },
    ];
    const alone = await Promise.all(asks.map((a) => rolePermissionsOf(db, a.vault, a.role)));
    expect(alone).toEqual([['entries.view', 'otp.view'], ['entries.view'], [], [], ['audit.read'], ['entries.view', 'otp.view'], []]);
    expect(await customRolePermissionsOf(db, asks)).toEqual(alone);
    expect(await customRolePermissionsOf(db, [])).toEqual([]);
  });
});
