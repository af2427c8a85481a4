/**
 * SQL for the sync stream's holders (review 13a hole 2): which of the sessions holding a stream open
 * on a vault still stand, read once for all of them each time the vault's stream would tell them
 * something (server/sync/stream.ts). A session stands while it is stored (not signed out, its device
 * not removed, its second steps not reset), its access token is not past, and its account is a person
 * of the vault, not disabled — or the vault's creator before any owner is bound (as a pull allows:
 * server/sync/membership.ts pullingPerson).
 * Must never: be answered from anything read before the notice it judges (no cache), or write.
 */
import { text, type Queryable } from './db';

/** The session ids of `sessionIds` that still stand for a stream on `vaultId` at `now`. */
export async function standingStreamSessions(db: Queryable, vaultId: string, createdBy: string, sessionIds: readonly string[], now: number): Promise<Set<string>> {
  if (sessionIds.length === 0) return new Set();
  const rows = await db.query(
    `SELECT s.id FROM sessions s
     WHERE s.id = ANY($2::text[]) AND s.access_expires_at > $4
       AND (EXISTS (SELECT 1 FROM sync_people p WHERE p.vault_id = $1 AND p.account_id = s.user_id AND NOT p.disabled)
            OR (s.user_id = $3
                AND NOT EXISTS (SELECT 1 FROM sync_people p WHERE p.vault_id = $1 AND p.account_id = s.user_id)
                AND NOT EXISTS (SELECT 1 FROM sync_people p WHERE p.vault_id = $1 AND p.account_id IS NOT NULL AND p.role = 'owner' AND NOT p.disabled)))`,
    [vaultId, [...new Set(sessionIds)], createdBy, now],
  );
  return new Set(rows.map((row) => text(row, 'id')));
}
