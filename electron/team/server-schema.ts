/**
 * Whether a team server is new enough for this desktop's sync (docs/SYNC.md "Which server a vault
 * syncs with"): from schema 23 (server/store/migrations/0023-vault-objects.ts) a server knows the
 * `kinds` a pull and a snapshot name and the role, settings and MFA policy records a push carries.
 * An older one refuses each as a field or record it does not take ("has a field this route does not
 * take"), and a move's first part (the signing keys) would be stored before its second was refused:
 * so a sync, a first sync and a join ask the server's schema (its health reply) before their first
 * request of the vault and stop with one line naming the cause, nothing sent or taken in.
 * Must never: send or take anything of a vault before the answer, or loop asking.
 */
import { CrewvaultError } from '../../shared/errors';
import type { TeamClient } from './client';

/** The team server's schema from which it takes this desktop's sync. */
export const SYNC_SERVER_SCHEMA = 23;

/** Clients whose server said it is new enough, with the schema it said: asked once a client (a server is not made older under a session). */
const newEnough = new WeakMap<TeamClient, number>();

/** The server's schema from which a pull tells the entries that left this person's reach (`left`, server/store/left-reach.ts). */
export const LEFT_REACH_SERVER_SCHEMA = 25;

/** Whether `client`'s server (as requireServerSchema heard it) tells entries that left this person's reach: an older one refuses the field. */
export function tellsLeftReach(client: TeamClient): boolean {
  return (newEnough.get(client) ?? 0) >= LEFT_REACH_SERVER_SCHEMA;
}

/**
 * The server's schema from which a pull hands the signed record that took each such entry out
 * (`leftRecords`, review 14 hole 1): only such a record takes an entry off this desktop. A server of
 * schema 25 or 26 tells ids alone, which this desktop no longer acts on (replica-left-reach.ts).
 */
export const LEFT_RECORDS_SERVER_SCHEMA = 27;

/** Whether `client`'s server (as requireServerSchema heard it) hands the records that took entries out of this person's reach. */
export function tellsLeftRecords(client: TeamClient): boolean {
  return (newEnough.get(client) ?? 0) >= LEFT_RECORDS_SERVER_SCHEMA;
}

/**
 * The server's schema from which a pull hands, with an entry's record, the signed records that
 * moved it, the last few kept (`moves`, server/store/entry-moves.ts): a change made where
 * the entry went is judged from there (electron/vault/replica-moves.ts).
 */
export const MOVES_SERVER_SCHEMA = 31;

/** Whether `client`'s server (as requireServerSchema heard it) hands the moves of the entries a pull hands: an older one refuses the field. */
export function handsMoves(client: TeamClient): boolean {
  return (newEnough.get(client) ?? 0) >= MOVES_SERVER_SCHEMA;
}

/** The server's schema from which it keeps history marks (server/store/history-marks.ts): a pull names and is handed them, a push is handed one. */
export const HISTORY_MARK_SERVER_SCHEMA = 26;

/** Whether `client`'s server (as requireServerSchema heard it) keeps history marks: an older one refuses the fields. */
export function tellsHistoryMarks(client: TeamClient): boolean {
  return (newEnough.get(client) ?? 0) >= HISTORY_MARK_SERVER_SCHEMA;
}

/**
 * The server's schema from which a push names how far this desktop's pulls reached (`pulled`, review
 * R1): a rotation pushed then is refused while it would leave an entry stored since under the old key.
 */
export const PULLED_SERVER_SCHEMA = 29;

/** Whether `client`'s server (as requireServerSchema heard it) takes a push's `pulled`: an older one refuses the field. */
export function takesPulled(client: TeamClient): boolean {
  return (newEnough.get(client) ?? 0) >= PULLED_SERVER_SCHEMA;
}

/** SERVER_OUTDATED when `client`'s server is older than SYNC_SERVER_SCHEMA (one line: upgrade the server); asks once a client. */
export async function requireServerSchema(client: TeamClient): Promise<void> {
  if (newEnough.has(client)) return;
  const { schema } = await client.call('health', undefined);
  if (schema < SYNC_SERVER_SCHEMA) {
    throw new CrewvaultError('SERVER_OUTDATED', `The team server at ${client.url.host} is older than this desktop (schema ${schema}; its sync needs ${SYNC_SERVER_SCHEMA} or later): nothing was sent or taken in. Ask its administrator to upgrade the server.`);
  }
  newEnough.set(client, schema);
}
