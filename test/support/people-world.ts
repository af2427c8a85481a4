/**
 * For tests only: one shared world for the people-records tests (#15: replica-people-in,
 * review-round-six, review-round-six-holes, review-six-concurrent-rotation). A vault whose owner
 * creates lena (a team lead) and whoever else a test needs, each with a one-time password that
 * those given a password then change; lena makes the Network group, grants it, and puts one
 * entry in it; then copies of that file become the desktops named, each agreeing to everything
 * it holds. Beside it, read-only probes of a vault file (wraps, roles, key version, the
 * server-codes setting) and wire(), a batch as a relay would hand it on (JSON).
 * Must never: stand in for SQLite files, crypto or signatures, write to a file it probes, or
 * hold a secret anywhere but the vault files it makes (the passwords here are test fixtures).
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Outgoing } from '../../electron/vault/replica-service';
import type { Clock } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';
import type { Role } from '../../shared/policy';
import { copyAsNewDesktop } from './replica';
import { FAST_KDF, newVault, OWNER, PASSWORD, tempFolder } from './vault';

export const LEAD = 'lena';
export const LEAD_PASSWORD = 'lena leads the network team';
export const MEMBER = 'mo';
export const MEMBER_PASSWORD = 'mo fixes the network';
export const OTHER = 'oz';
export const ADMIN = 'ada';
export const ADMIN_PASSWORD = 'ada administers the vault';
export { OWNER, PASSWORD };

/** The one-time password the owner gives a new person. */
export function oneTimePassword(name: string): string {
  return `a one-time password for ${name}`;
}

/** A person the owner creates; with a password, they sign in once and change to it. */
export interface WorldPerson {
  readonly name: string;
  readonly role: Role;
  readonly password?: string;
}

/** A desktop: a copy of the vault file, named by label, where name signs in with password. */
export interface WorldDesktop {
  readonly label: string;
  readonly name: string;
  readonly password: string;
}

export interface PeopleWorldPlan {
  /** Created after lena (always a team lead, with LEAD_PASSWORD), in this order. */
  readonly people: readonly WorldPerson[];
  /** Granted Network by lena, in this order. */
  readonly members: readonly string[];
  readonly desktops: readonly WorldDesktop[];
  /** Run on the first file after lena's set-up (given Network's id), before any desktop is copied from it. */
  readonly beforeCopies?: (file: string, clock: Clock, netId: number) => Promise<void>;
}

/** Builds the world; files are the desktops' vault files in the plan's order. */
export async function newPeopleWorld(plan: PeopleWorldPlan) {
  const { file, session, clock } = await newVault();
  const people: WorldPerson[] = [{ name: LEAD, role: 'team_lead', password: LEAD_PASSWORD }, ...plan.people];
  for (const p of people) await session.createUser(p.name, p.role, oneTimePassword(p.name), FAST_KDF);
  await session.close();
  for (const p of people) {
    if (p.password === undefined) continue;
    const s = await Vault.open(file, clock).signIn(p.name, oneTimePassword(p.name));
    await s.changePassword(oneTimePassword(p.name), p.password, FAST_KDF);
    await s.close();
  }
  const lena = await Vault.open(file, clock).signIn(LEAD, LEAD_PASSWORD);
  const net = await lena.team.createGroup('Network');
  for (const who of plan.members) await lena.team.grant(net.id, who, false, await lena.team.groupRevision(net.id));
  await lena.createEntries([{ customer: 'Acme', title: 'Core switch', password: 'cs-1', groupId: net.id }]);
  await lena.close();
  if (plan.beforeCopies) await plan.beforeCopies(file, clock, net.id);
  const files = plan.desktops.map((d) => path.join(tempFolder(), `desktop-${d.label}.crewvault`));
  for (const copy of files) await copyAsNewDesktop(file, copy, clock);
  for (const [i, d] of plan.desktops.entries()) {
    const s = await Vault.open(files[i] ?? '', clock).signIn(d.name, d.password);
    await s.replica.agreeAll();
    await s.close();
  }
  return { clock, files, netId: net.id };
}

/** A batch as a relay hands it on: through JSON, nothing of the sender's objects kept. */
export function wire(out: Outgoing): unknown {
  return JSON.parse(JSON.stringify(out.batch)) as unknown;
}

/** Runs one read on the file opened read-only, beside any session, and closes it. */
function readOnly<T>(file: string, read: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** The uids (hex) of the events a file's log holds by an actor, in the log's order. */
export function eventsBy(file: string, name: string): string[] {
  return readOnly(file, (db) => db.prepare<[string], { id: string }>('SELECT lower(hex(a.uid)) AS id FROM audit_log a JOIN users u ON u.id = a.actor_id WHERE u.name = ? ORDER BY a.id').all(name).map((r) => r.id));
}

/** A global id as eventsBy names it (hex, no dashes). */
export const hexOf = (uid: string): string => uid.replaceAll('-', '').toLowerCase();

/** Every wrapped group key this file holds, as hex, in a stable order. */
export function wrapsOf(file: string): string[] {
  return readOnly(file, (db) => (db.prepare('SELECT group_id, user_id, key_version, hex(wrapped_key) AS w FROM group_keys ORDER BY group_id, user_id').all() as Array<{ group_id: number; user_id: number; key_version: number; w: string }>).map((r) => `${r.group_id}/${r.user_id}/${r.key_version}/${r.w}`));
}

/** A user's role as the file holds it. */
export function userRole(file: string, name: string): string | undefined {
  return readOnly(file, (db) => (db.prepare('SELECT role FROM users WHERE name = ?').get(name) as { role: string } | undefined)?.role);
}

/** A user's role and whether disabled, as the file holds them. */
export function userState(file: string, name: string): { role: string; disabled: boolean } | undefined {
  return readOnly(file, (db) => {
    const row = db.prepare('SELECT role, disabled_at FROM users WHERE name = ?').get(name) as { role: string; disabled_at: number | null } | undefined;
    return row && { role: row.role, disabled: row.disabled_at !== null };
  });
}

/** Whether the file holds the group as set to "server computes codes". */
export function serverCodesOf(file: string, groupId: number): boolean {
  return readOnly(file, (db) => (db.prepare('SELECT server_codes FROM access_groups WHERE id = ?').get(groupId) as { server_codes: number }).server_codes === 1);
}

/** The group's key version as the file holds it. */
export function groupVersion(file: string, groupId: number): number | undefined {
  return readOnly(file, (db) => (db.prepare('SELECT key_version FROM access_groups WHERE id = ?').get(groupId) as { key_version: number } | undefined)?.key_version);
}
