/**
 * SQL for the MFA policy and who is external (schema 5's `server_settings`, key/value): the
 * global level (`mfa_policy`), a level per role (`mfa_policy:owner` …) and for external people
 * (`mfa_policy:external`), each person marked external (`mfa_external:<user id>`), and since
 * when second steps count (`mfa_asked_since`: a policy turned on again asks everyone again), and
 * the idle time after which a session does its second step again (`session_idle_minutes`).
 * Only this file reads or writes `server_settings`. Nothing here is a secret.
 */
import { DEFAULT_IDLE_MINUTES, MFA_POLICY_LEVELS, type MfaPolicyLevel, type MfaPolicyScope, type MfaPolicyView } from '../../shared/api/server-contract';
import { textOrNull, type Queryable, type Row, type Transaction } from './db';

const GLOBAL_KEY = 'mfa_policy';
const ASKED_SINCE_KEY = 'mfa_asked_since';
const IDLE_KEY = 'session_idle_minutes';
export const DEFAULT_MFA_POLICY: MfaPolicyLevel = 'optional';

function keyOf(scope: MfaPolicyScope): string {
  return scope === 'global' ? GLOBAL_KEY : `mfa_policy:${scope}`;
}

function externalKey(userId: string): string {
  return `mfa_external:${userId}`;
}

function levelOf(value: string | null): MfaPolicyLevel | null {
  return (MFA_POLICY_LEVELS as readonly (string | null)[]).includes(value) ? value as MfaPolicyLevel : null;
}

/** The strictest of the levels given (off < optional < required); undefined ones add nothing. */
export function strictest(levels: readonly (MfaPolicyLevel | null)[]): MfaPolicyLevel {
  let rank = -1;
  for (const level of levels) if (level !== null) rank = Math.max(rank, MFA_POLICY_LEVELS.indexOf(level));
  return MFA_POLICY_LEVELS[rank] ?? DEFAULT_MFA_POLICY;
}

function idleMinutesOf(value: string | null): number {
  return value !== null && /^[0-9]{1,4}$/.test(value) ? Number(value) : DEFAULT_IDLE_MINUTES;
}

/** What applies to one person: their level, since when a second step counts, the idle time (0: never). */
export interface PersonPolicy {
  readonly policy: MfaPolicyLevel;
  readonly askedSince: number;
  readonly idleMs: number;
}

/**
 * The columns `global`, `role`, `external`, `asked_since` and `idle` for the person in the users
 * row `user` (an alias of the caller's query), with the three setting keys as the query's
 * parameters `keys` (POLICY_SETTING_KEYS, in order): a caller that reads a person with other
 * things (server/store/sessions.ts, every request) asks it in the same statement.
 */
export function policyColumnsSql(user: string, keys: readonly [string, string, string]): string {
  const [global, askedSince, idle] = keys;
  return `(SELECT value FROM server_settings WHERE key = ${global}) AS global,
            (SELECT value FROM server_settings WHERE key = 'mfa_policy:' || ${user}.role) AS role_policy,
            (SELECT value FROM server_settings WHERE key = 'mfa_policy:external'
               AND EXISTS (SELECT 1 FROM server_settings WHERE key = 'mfa_external:' || ${user}.id)) AS external,
            (SELECT value FROM server_settings WHERE key = ${askedSince}) AS asked_since,
            (SELECT value FROM server_settings WHERE key = ${idle}) AS idle`;
}

/** pg_advisory_xact_lock's key for the MFA policy's changes (any constant no other lock uses: audit.ts, migrate.ts, rotation.ts). */
const POLICY_LOCK = 0x6d666170;

/**
 * A change of the policy (a level, the idle time, someone's external mark) holds the policy until its
 * transaction ends, before it reads or writes any of it: a codes batch holds it shared (MFA_POLICY_SHARED_SQL) from
 * before it reads where its sessions' second steps stand until it commits, so a change commits either before the
 * batch reads (the batch judges by it) or after the batch has committed (its codes were given under the policy before,
 * and audited before the change). On PGlite, which runs one transaction at a time, it changes nothing.
 */
export async function holdMfaPolicyForChange(tx: Transaction): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${POLICY_LOCK})`);
}

/**
 * A SELECT that holds the policy shared until the transaction ends, once, when `when` (an SQL condition) holds:
 * for a statement read before the one that reads the policy (that one's snapshot then follows every change
 * committed before the hold). Holds do not wait on each other, only on a change under way (holdMfaPolicyForChange).
 */
export function mfaPolicySharedSql(when: string): string {
  return `SELECT pg_advisory_xact_lock_shared(${POLICY_LOCK}) WHERE ${when}`;
}

/** The values policyColumnsSql's keys parameters take. */
export const POLICY_SETTING_KEYS: readonly [string, string, string] = [GLOBAL_KEY, ASKED_SINCE_KEY, IDLE_KEY];

/** A person's policy from policyColumnsSql's columns. */
export function personPolicyOf(row: Row): PersonPolicy {
  const global = levelOf(textOrNull(row, 'global')) ?? DEFAULT_MFA_POLICY;
  const askedSince = textOrNull(row, 'asked_since');
  return {
    policy: strictest([global, levelOf(textOrNull(row, 'role_policy')), levelOf(textOrNull(row, 'external'))]),
    askedSince: askedSince !== null && /^[0-9]{1,15}$/.test(askedSince) ? Number(askedSince) : 0,
    idleMs: idleMinutesOf(textOrNull(row, 'idle')) * 60_000,
  };
}

/** What applies to one person, in one read. */
export async function policyForUser(db: Queryable, userId: string): Promise<PersonPolicy> {
  const [row] = await db.query(`SELECT ${policyColumnsSql('u', ['$2', '$3', '$4'])} FROM users u WHERE u.id = $1`, [userId, ...POLICY_SETTING_KEYS]);
  if (row === undefined) return { policy: DEFAULT_MFA_POLICY, askedSince: 0, idleMs: DEFAULT_IDLE_MINUTES * 60_000 };
  return personPolicyOf(row);
}

export async function readMfaPolicy(db: Queryable): Promise<MfaPolicyView> {
  const rows = await db.query("SELECT key, value FROM server_settings WHERE key = $1 OR key = $2 OR key LIKE 'mfa\\_policy:%'", [GLOBAL_KEY, IDLE_KEY]);
  const stored = new Map(rows.map((row) => [textOrNull(row, 'key'), levelOf(textOrNull(row, 'value'))]));
  const level = (scope: MfaPolicyScope): MfaPolicyLevel | null => stored.get(keyOf(scope)) ?? null;
  return {
    policy: level('global') ?? DEFAULT_MFA_POLICY,
    roles: { owner: level('owner'), admin: level('admin'), member: level('member') },
    external: level('external'),
    idleMinutes: idleMinutesOf(rows.map((row) => row.key === IDLE_KEY ? textOrNull(row, 'value') : null).find((value) => value !== null) ?? null),
  };
}

/** Sets (or, with null, takes away) one scope's level. */
export async function writeMfaPolicy(db: Queryable, scope: MfaPolicyScope, level: MfaPolicyLevel | null): Promise<void> {
  if (level === null) {
    await db.query('DELETE FROM server_settings WHERE key = $1', [keyOf(scope)]);
    return;
  }
  await db.query('INSERT INTO server_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2', [keyOf(scope), level]);
}

/** From `at`, second steps done before it no longer count. */
export async function writeAskedSince(db: Queryable, at: number): Promise<void> {
  await db.query('INSERT INTO server_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2', [ASKED_SINCE_KEY, String(at)]);
}

export async function setExternal(db: Queryable, userId: string, external: boolean): Promise<void> {
  if (external) await db.query("INSERT INTO server_settings (key, value) VALUES ($1, 'true') ON CONFLICT (key) DO NOTHING", [externalKey(userId)]);
  else await db.query('DELETE FROM server_settings WHERE key = $1', [externalKey(userId)]);
}

/** The ids of everyone marked external. */
export async function externalUserIds(db: Queryable): Promise<Set<string>> {
  const rows = await db.query("SELECT key FROM server_settings WHERE key LIKE 'mfa\\_external:%'");
  return new Set(rows.map((row) => (textOrNull(row, 'key') ?? '').slice('mfa_external:'.length)));
}

/** The idle time in minutes after which a session does its second step again (0: never). */
export async function writeIdleMinutes(db: Queryable, minutes: number): Promise<void> {
  await db.query('INSERT INTO server_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2', [IDLE_KEY, String(minutes)]);
}
