/**
 * A vault for the signers' checks (verify-in-lock, verify-reads): its owner bound to `accountId`,
 * one signing key of theirs and the batches given, written in one transaction; returns its id.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from '../../server/store/db';
import { putBatches } from '../../server/store/batches';
import { putPerson } from '../../server/store/membership';
import { putSigningKeys } from '../../server/store/signers';
import { createVault } from '../../server/store/sync';

export async function vaultWithOwnerKey(db: Database, accountId: string, batches: ReadonlyArray<{ readonly id: string; readonly body: string }> = []): Promise<string> {
  const id = randomBytes(16).toString('hex');
  await db.transaction(async (tx) => {
    await createVault(tx, id, accountId, 1_000);
    await putPerson(tx, id, { vaultUser: 'owner-user', accountId, role: 'owner', disabled: false });
    await putSigningKeys(tx, id, [{ keyId: 'k1', vaultUser: 'owner-user', publicKey: randomBytes(32).toString('base64url'), certifiedBy: null, certificate: null }]);
    if (batches.length > 0) await putBatches(tx, id, [...batches]);
  });
  return id;
}
