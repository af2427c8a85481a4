/**
 * SQL for server-computed codes (schemas 15, 16, 19). Only this file reads or writes `server_code_keys`,
 * `server_code_groups` and `code_throttle` (but store/code-seals.ts, which drops the seals a change ends) (and reads the audit's tail beside a batch's counts: store/audit.ts's
 * AUDIT_TAIL_SQL). Sealed keys are stored as the desktop sealed them (base64url); the
 * throttle counts a whole batch of requests in one statement. A batch holds its askers' token and
 * session rows (and their sessions' device rows) with those stores' own SQL (holdVaultsAndAskers).
 */
import { isBuiltInRole, ROLE_PERMISSIONS, type Permission } from '../../shared/policy';
import { CrewvaultError } from '../../shared/errors';
import { AUDIT_LOCK_FROM, AUDIT_TAIL_SQL, type AuditTail } from './audit';
import { toToken, tokensHeldSql, type AutomationTokenRow } from './automation-tokens';
import { int, text, textOrNull, type Queryable, type Row, type Transaction } from './db';
import { customRolePermissionsOf } from './membership';
import { mfaPolicySharedSql, POLICY_SETTING_KEYS } from './mfa-policy';
import { heldSessionOf, heldSessionStandingsSql, sessionDevicesHeldSql, sessionHeldOf, sessionsHeldSql, type HeldSession, type SessionHeld } from './sessions';

export interface SealedCodeRow {
  readonly entry: string;
  readonly group: string;
  readonly keyVersion: number;
  readonly sealed: string;
  /** The code key it was sealed to (its fingerprint); null: sealed before the server kept it (its only key then). */
  readonly codeKey: string | null;
}

/** A seal as stored: with the keyed digest of what it holds (server/codes/held.ts; null: stored before schema 33). */
export interface SealedCodeStored extends SealedCodeRow {
  readonly digest: string | null;
}

/** The sealed key the server holds for an entry; undefined when none. */
export async function findSealedCode(db: Queryable, vaultId: string, entryId: string): Promise<SealedCodeRow | undefined> {
  const [row] = await db.query('SELECT group_id, key_version, sealed, code_key FROM server_code_keys WHERE vault_id = $1 AND entry_id = $2', [vaultId, entryId]);
  return row === undefined ? undefined : { entry: entryId, group: text(row, 'group_id'), keyVersion: int(row, 'key_version'), sealed: text(row, 'sealed'), codeKey: textOrNull(row, 'code_key') };
}

export async function putSealedCode(tx: Transaction, vaultId: string, row: SealedCodeStored, sealedBy: string, now: number): Promise<void> {
  await tx.query(
    `INSERT INTO server_code_keys (vault_id, entry_id, group_id, key_version, sealed, sealed_by, sealed_at, code_key, digest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (vault_id, entry_id) DO UPDATE SET group_id = excluded.group_id, key_version = excluded.key_version, sealed = excluded.sealed,
       sealed_by = excluded.sealed_by, sealed_at = excluded.sealed_at, code_key = excluded.code_key, digest = excluded.digest`,
    [vaultId, row.entry, row.group, row.keyVersion, row.sealed, sealedBy, now, row.codeKey, row.digest],
  );
}

/** Of `entries`, the seals held: each one's group, code key and keyed digest (POST /v1/codes/keys/held), one statement. */
export async function sealDigestsOf(db: Queryable, vaultId: string, entries: readonly string[]): Promise<Map<string, { readonly group: string; readonly codeKey: string | null; readonly digest: string | null }>> {
  if (entries.length === 0) return new Map();
  const rows = await db.query('SELECT entry_id, group_id, code_key, digest FROM server_code_keys WHERE vault_id = $1 AND entry_id = ANY($2::text[])', [vaultId, [...entries]]);
  return new Map(rows.map((row) => [text(row, 'entry_id'), { group: text(row, 'group_id'), codeKey: textOrNull(row, 'code_key'), digest: textOrNull(row, 'digest') }]));
}

/** True when there was one to delete. */
export async function deleteSealedCode(tx: Transaction, vaultId: string, entryId: string): Promise<boolean> {
  return (await tx.query('DELETE FROM server_code_keys WHERE vault_id = $1 AND entry_id = $2 RETURNING entry_id', [vaultId, entryId])).length === 1;
}

/** Deletes every sealed key of a group; how many there were. */
export async function deleteSealedCodesOfGroup(tx: Transaction, vaultId: string, groupId: string): Promise<number> {
  return (await tx.query('DELETE FROM server_code_keys WHERE vault_id = $1 AND group_id = $2 RETURNING entry_id', [vaultId, groupId])).length;
}

/** The group and key version of an entry as the server holds its newest record; undefined: no such entry, or a tombstone. */
export async function entryPlacement(db: Queryable, vaultId: string, entryId: string): Promise<{ readonly group: string; readonly keyVersion: number } | undefined> {
  const [row] = await db.query(
    `SELECT body->>'group' AS group_id, (body->>'keyVersion')::int AS key_version FROM sync_records
     WHERE vault_id = $1 AND record_id = $2 AND kind = 'entry' AND body->'deletedAt' = 'null'::jsonb`,
    [vaultId, entryId],
  );
  return row === undefined ? undefined : { group: text(row, 'group_id'), keyVersion: int(row, 'key_version') };
}

export interface ThrottleCount {
  readonly actor: string;
  readonly key: string;
  /**
   * The window this count is for (a time step by the ms it ends at, a minute by its number; one kind per key): a newer window than the stored one starts
   * the count again; an older one (a process whose clock is behind) counts in the stored, newer one.
   */
  readonly window: number;
  /** How many this batch adds. */
  readonly add: number;
}

/**
 * Adds each count (one row per actor and key, each at most once in `counts`) and returns the totals,
 * keyed `actor|key`. The stored window only moves forward: two server processes whose clocks straddle
 * a step (or a minute) would otherwise reset each other's count back and forth, each batch from zero.
 */
export async function addThrottleCounts(tx: Transaction, counts: readonly ThrottleCount[]): Promise<Map<string, number>> {
  if (counts.length === 0) return new Map();
  const rows = await tx.query(
    `INSERT INTO code_throttle (actor, key, window_start, count)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[])
     ON CONFLICT (actor, key) DO UPDATE SET
       count = CASE WHEN code_throttle.window_start >= excluded.window_start THEN code_throttle.count + excluded.count ELSE excluded.count END,
       window_start = GREATEST(code_throttle.window_start, excluded.window_start)
     RETURNING actor, key, count`,
    [counts.map((c) => c.actor), counts.map((c) => c.key), counts.map((c) => c.window), counts.map((c) => c.add)],
  );
  return new Map(rows.map((row) => [`${text(row, 'actor')}|${text(row, 'key')}`, int(row, 'count')]));
}

/**
 * addThrottleCounts and, in the same statement, the audit's tail (store/audit.ts AUDIT_TAIL_SQL):
 * one round trip for what a codes batch did in two. The caller holds the audit's lock already
 * (lockAudit or lookUpCodesLockingAudit: a statement before this one, so this statement's snapshot sees
 * every event committed before the lock was held). Under that lock no other codes batch writes a count
 * row, so these rows wait on nobody.
 */
export async function addThrottleCountsReadingAuditTail(tx: Transaction, counts: readonly ThrottleCount[]): Promise<{ readonly totals: Map<string, number>; readonly tail: AuditTail | undefined }> {
  const rows = await tx.query(
    `WITH counted AS (
       INSERT INTO code_throttle (actor, key, window_start, count)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[])
       ON CONFLICT (actor, key) DO UPDATE SET
         count = CASE WHEN code_throttle.window_start >= excluded.window_start THEN code_throttle.count + excluded.count ELSE excluded.count END,
         window_start = GREATEST(code_throttle.window_start, excluded.window_start)
       RETURNING actor, key, count
     )
     SELECT actor, key, count, NULL::bigint AS seq, NULL::text AS hash FROM counted
     UNION ALL
     SELECT NULL, NULL, NULL, seq, hash FROM (${AUDIT_TAIL_SQL}) AS tail`,
    [counts.map((c) => c.actor), counts.map((c) => c.key), counts.map((c) => c.window), counts.map((c) => c.add)],
  );
  const totals = new Map<string, number>();
  let tail: AuditTail | undefined;
  for (const row of rows) {
    if (row.actor === null) tail = { seq: int(row, 'seq'), hash: text(row, 'hash') };
    else totals.set(`${text(row, 'actor')}|${text(row, 'key')}`, int(row, 'count'));
  }
  return { totals, tail };
}

/**
 * Holds these vaults' rows (FOR SHARE) until the transaction ends: a sync push takes the row FOR
 * UPDATE (store/sync.ts lockVault), so a revoke, a rotation or a role change cannot commit between a
 * batch's access check and its commit, and a batch waits for one that is under way. Share locks do
 * not wait on each other: batches of two server processes go side by side. In one order (no deadlock).
 */
export async function holdVaults(tx: Transaction, vaultIds: readonly string[]): Promise<void> {
  if (vaultIds.length === 0) return;
  await tx.query('SELECT vault_id FROM sync_vaults WHERE vault_id = ANY($1::text[]) ORDER BY vault_id FOR SHARE', [[...new Set(vaultIds)].sort()]);
}

/** The rows of a batch's askers, as held: a token or session absent from its maps is gone. */
export interface AskersHeld {
  readonly tokens: ReadonlyMap<string, AutomationTokenRow>;
  /** By id. */
  readonly sessions: ReadonlyMap<string, SessionHeld>;
  /** By the access token hash each holds now. */
  readonly sessionsByHash: ReadonlyMap<string, SessionHeld>;
}

/** A json_agg column: its rows (pg and PGlite hand json over parsed; text is parsed here). */
function jsonRows(row: Row, column: string): Row[] {
  const value = row[column];
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'object' && item !== null)) throw new CrewvaultError('INTERNAL', `column ${column} is not a json array of rows`);
  return parsed as Row[];
}

/** A code asked with a session as its request presented it: the vault asked of, the access token's hash. */
export interface PresentedAsk {
  readonly vault: string;
  readonly accessHash: string;
}

/**
 * holdVaults (of the asks whose asker is held: a presented ask's only when a session holds its access token), and in the same statement the rows of the automation tokens and sessions that ask
 * (store/automation-tokens.ts tokensHeldSql, store/sessions.ts sessionsHeldSql: a session by its id, or by
 * the access token hash a request presented, which the batch then judges itself), and the device rows those
 * sessions' second steps may stand on (a trusted or authorised device: sessionDevicesHeldSql), held FOR SHARE
 * until the batch commits: a revocation, a sign-out, a session's end or a device's trust forgotten committed
 * before this is read here, and one after waits until the batch has committed, so no code leaves on a token
 * or session that had ended, or lost its second step, before it was given. The request's own check (when
 * there was one) read them before the batch (review D5): what counts is this read. Where the second steps
 * stand is read by the next statement (lookUpCodesLockingAudit), and the MFA policy they stand under is held
 * shared here, last, when a session it holds asks (store/mfa-policy.ts mfaPolicySharedSql): a change of it under way is waited
 * for, and the next statement, whose snapshot is taken after, reads it; one that comes later waits until the batch has
 * committed. Share locks do not wait on each other. The
 * CTEs are held in the order the outer select names them (each scalar subquery is run when its column is
 * made, left to right): the devices before the sessions, the order a device's removal takes them in.
 */
export async function holdVaultsAndAskers(
  tx: Transaction, vaultIds: readonly string[], tokenIds: readonly string[], sessionIds: readonly string[], presented: readonly PresentedAsk[],
): Promise<AskersHeld> {
  const accessHashes = presented.map((ask) => ask.accessHash);
  // A presented ask's vault is held only when a session holds its access token: a caller who never signed in holds
  // no vault's row (a push to it would wait for their batch, and their batch for a push: hostile review of 7 December).
  const [row] = await tx.query(
    `WITH held_vaults AS (SELECT vault_id FROM sync_vaults
         WHERE vault_id = ANY($1::text[])
            OR vault_id IN (SELECT a.vault FROM unnest($5::text[], $6::text[]) AS a(vault, hash) JOIN sessions s ON s.access_hash = a.hash)
         ORDER BY vault_id FOR SHARE),
       held_tokens AS (${tokensHeldSql('$2')}),
       held_devices AS (${sessionDevicesHeldSql('$3', '$4')}),
       held_sessions AS (${sessionsHeldSql('$3', '$4')})
     SELECT (SELECT count(*) FROM held_vaults)::int AS vaults,
       (SELECT coalesce(json_agg(held_tokens), '[]'::json) FROM held_tokens) AS tokens,
       (SELECT count(*) FROM held_devices)::int AS devices,
       (SELECT coalesce(json_agg(held_sessions), '[]'::json) FROM held_sessions) AS sessions,
       (SELECT count(*) FROM (${mfaPolicySharedSql('EXISTS (SELECT 1 FROM held_sessions)')}) policy)::int AS policy`,
    [
      [...new Set(vaultIds)].sort(), [...new Set(tokenIds)].sort(), [...new Set(sessionIds)].sort(), [...new Set(accessHashes)].sort(),
      presented.map((ask) => ask.vault), accessHashes,
    ],
  );
  if (row === undefined) throw new CrewvaultError('INTERNAL', 'holding a batch\'s vaults and askers returned no row');
  const sessions = jsonRows(row, 'sessions').map(sessionHeldOf);
  return {
    tokens: new Map(jsonRows(row, 'tokens').map((r) => {
      const token = toToken(r);
      return [token.id, token];
    })),
    sessions: new Map(sessions.map((held) => [held.id, held])),
    sessionsByHash: new Map(sessions.map((held) => [held.accessHash, held])),
  };
}

/** One ask for a code: an account, a vault, an entry. */
export interface CodeAsk {
  readonly vault: string;
  readonly entry: string;
  readonly account: string;
}

/**
 * What the server holds for an ask, when the account holds the entry's group: their role, the
 * group's current key version, and the entry's sealed key (undefined: none for its group). An ask
 * for no live entry and one for an entry of a group the account does not hold are not told apart.
 */
export interface CodeHeld {
  readonly role: string;
  /** The role's permissions as the server holds them (a custom role's from its record: review 13a hole 1). */
  readonly permissions: readonly Permission[];
  readonly groupKeyVersion: number;
  readonly seal: SealedCodeRow | undefined;
}

/** What lookUpCodesLockingAudit read: each ask's (in the asks' order), and where each held session's second step stands, by id. */
export interface CodesLookedUp {
  readonly held: Array<CodeHeld | undefined>;
  readonly standings: ReadonlyMap<string, HeldSession>;
}

/**
 * Every ask of a batch in one statement, in the caller's transaction (after holdVaults): the same
 * question as memberAccess (server/store/membership.ts: a vault user bound to the account, not
 * disabled, with a role, a member of the live group or an owner or admin) asked of the group the
 * entry's live record names, and the sealed key stored for the entry in that very group while the
 * group's record says the server computes its codes (schema 16). Access is
 * decided before the seal is looked at: a seal is never a reason for a different answer.
 * Each table is read per ask by its key (LATERAL ... LIMIT 1 on a primary or unique key, so the
 * plan cannot flatten them into joins): on freshly written tables without statistics the joined
 * form scanned the vault's records by sync_records_by_seq, 450 rows an ask (2.9 → 0.47 ms for 15).
 * The same statement takes the audit's lock (store/audit.ts AUDIT_LOCK_FROM), returning once it is held:
 * one round trip a batch fewer than a statement of its own. What it reads is as of the statement's start,
 * not of the lock's grant: what decides access (people, groups, memberships, entries' records, role records)
 * is written only by pushes, which hold the vault's row FOR UPDATE and so wait for holdVaults (held before
 * this statement starts) until the batch has committed. Seals are not: sealCodes holds the vault's row only
 * FOR SHARE and a code key's forced deletion none, so a seal replaced or removed by a transaction the lock
 * waits on may still open this batch's codes, their events after its own in the chain (as when the lock
 * was a statement after this read). Statements after it see everything committed before the lock was held.
 * The same statement reads where the sessions `sessionIds` (held by holdVaultsAndAskers) stand, their second
 * steps under the MFA policy (store/sessions.ts heldSessionStandingsSql): as of after they and the policy were
 * held (a policy change under way when the batch held it has committed; one after waits for this batch).
 */
export async function lookUpCodesLockingAudit(tx: Transaction, asks: readonly CodeAsk[], sessionIds: readonly string[]): Promise<CodesLookedUp> {
  const rows = await tx.query(
    `SELECT held.*, NULL::json AS standings FROM ${AUDIT_LOCK_FROM} LEFT JOIN LATERAL (
     SELECT a.n::int AS n, p.role, g.key_version, k.group_id AS seal_group, k.key_version AS seal_version, k.sealed, k.code_key
     FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS a(vault_id, entry_id, account_id, n)
     CROSS JOIN LATERAL (
       SELECT body->>'group' AS group_id FROM sync_records
       WHERE vault_id = a.vault_id AND record_id = a.entry_id AND kind = 'entry' AND body->'deletedAt' = 'null'::jsonb LIMIT 1
     ) r
     CROSS JOIN LATERAL (
       SELECT role, vault_user FROM sync_people
       WHERE vault_id = a.vault_id AND account_id = a.account_id AND NOT disabled AND role IS NOT NULL LIMIT 1
     ) p
     CROSS JOIN LATERAL (
       SELECT group_id, key_version FROM sync_groups WHERE vault_id = a.vault_id AND group_id = r.group_id AND NOT deleted LIMIT 1
     ) g
     LEFT JOIN LATERAL (
       SELECT true AS member FROM sync_members WHERE vault_id = a.vault_id AND group_id = g.group_id AND vault_user = p.vault_user LIMIT 1
     ) m ON true
     LEFT JOIN LATERAL (
       SELECT group_id, key_version, sealed, code_key FROM server_code_keys
       WHERE vault_id = a.vault_id AND entry_id = a.entry_id AND group_id = g.group_id
         AND EXISTS (SELECT 1 FROM server_code_groups s WHERE s.vault_id = a.vault_id AND s.group_id = g.group_id)
       LIMIT 1
     ) k ON true
     WHERE m.member OR p.role IN ('owner', 'admin')
     ) held ON true
     UNION ALL
     SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, (SELECT coalesce(json_agg(standing), '[]'::json) FROM (${heldSessionStandingsSql('$4', ['$5', '$6', '$7'])}) standing)`,
    [asks.map((a) => a.vault), asks.map((a) => a.entry), asks.map((a) => a.account), [...new Set(sessionIds)].sort(), ...POLICY_SETTING_KEYS],
  );
  const standings = new Map<string, HeldSession>();
  for (const row of rows) {
    if (row.standings === null) continue;
    for (const r of jsonRows(row, 'standings')) {
      const standing = heldSessionOf(r);
      standings.set(standing.session.id, standing);
    }
  }
  const found = rows.flatMap((row) => {
    // The lock's row alone (no ask held), or the standings' row: nothing of an ask to read.
    if (row.n === null) return [];
    const n = int(row, 'n') - 1;
    const ask = asks[n];
    return ask === undefined ? [] : [{ n, ask, row, role: text(row, 'role') }];
  });
  // Custom roles' permissions (rare: built-in roles need no read), every one of the batch in one statement: it runs
  // under the audit's lock, which every other codes batch waits on, so one round trip at most, and none without them.
  const custom = [...new Map(found.filter((f) => !isBuiltInRole(f.role)).map((f) => [`${f.ask.vault}\u0000${f.role}`, { vault: f.ask.vault, role: f.role }])).entries()];
  const customRead = await customRolePermissionsOf(tx, custom.map(([, r]) => r));
  const customOf = new Map(custom.map(([key], i) => [key, customRead[i] ?? []]));
  const held: Array<CodeHeld | undefined> = asks.map(() => undefined);
  for (const { n, ask, row, role } of found) {
    const sealed = textOrNull(row, 'sealed');
    held[n] = {
      role, permissions: isBuiltInRole(role) ? ROLE_PERMISSIONS[role] : customOf.get(`${ask.vault}\u0000${role}`) ?? [], groupKeyVersion: int(row, 'key_version'),
      seal: sealed === null ? undefined : { entry: ask.entry, group: text(row, 'seal_group'), keyVersion: int(row, 'seal_version'), sealed, codeKey: textOrNull(row, 'code_key') },
    };
  }
  return { held, standings };
}

/** Which of these groups the server holds as set to "server computes codes" (their group records say so). */
export async function serverCodeGroups(db: Queryable, vaultId: string, groupIds: readonly string[]): Promise<Set<string>> {
  if (groupIds.length === 0) return new Set();
  const rows = await db.query('SELECT group_id FROM server_code_groups WHERE vault_id = $1 AND group_id = ANY($2::text[])', [vaultId, [...groupIds]]);
  return new Set(rows.map((row) => text(row, 'group_id')));
}

/** Every group of the vault the server holds as set to "server computes codes". */
export async function serverCodeGroupsOf(db: Queryable, vaultId: string): Promise<Set<string>> {
  const rows = await db.query('SELECT group_id FROM server_code_groups WHERE vault_id = $1', [vaultId]);
  return new Set(rows.map((row) => text(row, 'group_id')));
}

/** Sets a group on or off as its record says (the group is already in sync_groups). */
export async function setServerCodeGroup(tx: Transaction, vaultId: string, groupId: string, on: boolean): Promise<void> {
  if (on) await tx.query('INSERT INTO server_code_groups (vault_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [vaultId, groupId]);
  else await tx.query('DELETE FROM server_code_groups WHERE vault_id = $1 AND group_id = $2', [vaultId, groupId]);
}

/**
 * The secret-key wraps among these groups' current memberships held by someone of one of `roles`
 * (a membership's wrapped keys are stored as the pair [list key, secret key],
 * server/sync/membership.ts), each as "group user keyVersion wrappedSecretKey": read before and after a push's
 * memberships are applied, to refuse a push that adds one (group-setting.ts).
 */
export async function secretWrapsFor(tx: Transaction, vaultId: string, groupIds: readonly string[], roles: readonly string[]): Promise<Set<string>> {
  if (groupIds.length === 0 || roles.length === 0) return new Set();
  const rows = await tx.query(
    `SELECT m.group_id, m.vault_user, m.key_version, m.wrapped::jsonb ->> 1 AS secret FROM sync_members m
     JOIN sync_people p ON p.vault_id = m.vault_id AND p.vault_user = m.vault_user
     WHERE m.vault_id = $1 AND m.group_id = ANY($2::text[]) AND p.role = ANY($3::text[])
       AND CASE WHEN m.wrapped LIKE '[%' THEN (m.wrapped::jsonb ->> 1) IS NOT NULL ELSE false END`,
    [vaultId, [...groupIds], [...roles]],
  );
  // The wrap itself, not only whose it is: the same vault user's wrap sealed again (to another key pair, or handed on in their
  // record to a member who pulls it) is a wrap added (review of the stray wraps, F1).
  return new Set(rows.map((row) => `${text(row, 'group_id')} ${text(row, 'vault_user')} ${int(row, 'key_version')} ${text(row, 'secret')}`));
}

/** Seals made before the server kept which key they were sealed to are named as sealed to `codeKey` (its only key until the first rotation). */
export async function nameUnnamedSeals(tx: Transaction, codeKey: string): Promise<void> {
  await tx.query('UPDATE server_code_keys SET code_key = $1 WHERE code_key IS NULL', [codeKey]);
}

/** Which vaults and groups still hold seals made to each of these code keys, and how many. */
export async function sealsUnderKeys(db: Queryable, codeKeys: readonly string[]): Promise<Array<{ readonly codeKey: string; readonly vault: string; readonly group: string; readonly seals: number }>> {
  if (codeKeys.length === 0) return [];
  const rows = await db.query(
    `SELECT code_key, vault_id, group_id, count(*)::int AS n FROM server_code_keys WHERE code_key = ANY($1::text[])
     GROUP BY code_key, vault_id, group_id ORDER BY vault_id, group_id, code_key`,
    [[...codeKeys]],
  );
  return rows.map((row) => ({ codeKey: text(row, 'code_key'), vault: text(row, 'vault_id'), group: text(row, 'group_id'), seals: int(row, 'n') }));
}

/** Deletes the seals made to these code keys (a forced delete of the keys); how many. */
export async function deleteSealsUnderKeys(tx: Transaction, codeKeys: readonly string[]): Promise<number> {
  if (codeKeys.length === 0) return 0;
  return (await tx.query('DELETE FROM server_code_keys WHERE code_key = ANY($1::text[]) RETURNING entry_id', [[...codeKeys]])).length;
}
