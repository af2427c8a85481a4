/**
 * The people part's two writes a desktop makes of its own accord inside its own transactions (a
 * rotation's revoked member record, a person who signs in elsewhere given key settings), apart
 * from replica-people*.ts so team.ts, on every session's path, does not load the sync record
 * schemas (shared/sync/records.ts, zod) with them (#13 perf). Must never take a record in or
 * import the record schemas.
 */
import { createHash, randomBytes } from 'node:crypto';
import { CrewvaultError } from '../../shared/errors';
import { memberRecordId } from '../../shared/sync/record-ids';
import type { ReadDb, WriteDb } from './db';
import { uidText } from './ids';
import { parseKdf } from './records';
import { currentSequence } from './store-changes';
import { replicaBase, setReplicaBase } from './store-replica';
import { groupAndUserUids, noteRevokedMember } from './store-replica-people';
import { listUsers } from './store-users';

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const uidBytes = (text: string): Buffer => Buffer.from(text.replaceAll('-', ''), 'hex');

/**
 * A rotation left `userId` out of group `groupId` (now at `keyVersion`): noted, in the rotation's
 * transaction, to be sent as a signed revoked member record, its revision above the membership's
 * last (`lastRevision`, read before the row went) and above the one agreed for its id, which it
 * becomes here (so a re-grant's record goes above it in turn).
 */
export function noteRevoked(db: WriteDb, groupId: number, userId: number, keyVersion: number, lastRevision: number): void {
  const uids = groupAndUserUids(db, groupId, userId);
  if (!uids) return;
  const id = uidBytes(memberRecordId(uidText(uids.group_uid), uidText(uids.user_uid), sha256Hex));
  const revision = Math.max(lastRevision, replicaBase(db, id)) + 1;
  setReplicaBase(db, id, revision);
  noteRevokedMember(db, { groupId, userId, keyVersion, revision, seq: currentSequence(db) });
}

/**
 * Key settings for a row whose person signs in elsewhere: the vault's own settings with a salt of
 * its own (a sign-in with their name here costs what any does, then fails: nothing is sealed).
 */
export function elsewhereKdf(db: ReadDb): string {
  const first = listUsers(db)[0];
  if (!first) throw new CrewvaultError('VAULT_CORRUPT', 'Not a readable Crewvault vault: it has no users.');
  return JSON.stringify({ ...parseKdf(first.kdf), salt: randomBytes(16).toString('base64') });
}
