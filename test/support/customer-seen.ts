/**
 * What a team desktop shows of one customer, and how many of one audit action its file holds: the
 * checks the same-named-customers and squatted-name tests make of every desktop after a sync.
 * Must never: sign in anywhere but on the desktop named, or write to its file.
 */
import Database from 'better-sqlite3';
import type { Clock } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';
import type { Desktop, TeamDesktops } from './team-desktops';

export interface CustomerSeen {
  /** How many customers of the name the entries under it stand under (one once they are folded). */
  readonly customers: number;
  /** Each entry's title and password, `title=password`, sorted. */
  readonly titles: string[];
  /** Whether the file's audit log verifies as `crewvault audit verify` walks it: hashes, links, signatures. */
  readonly auditOk: boolean;
}

/** The entries under `customer` on a desktop, signed in (the keyed anchor is judged at sign-in), and its audit log verified. */
export async function customerSeenOn(team: Pick<TeamDesktops, 'onDesktop'>, clock: Clock, d: Desktop, customer: string): Promise<CustomerSeen> {
  const seen = await team.onDesktop(d, async (s) => {
    const under = (await s.listEntries()).filter((e) => e.customer === customer);
    const titles: string[] = [];
    for (const e of under) titles.push(`${e.title}=${await s.revealPassword(e.id)}`);
    return { customers: new Set(under.map((e) => e.customerId)).size, titles: titles.sort() };
  });
  const vault = Vault.open(d.file, clock);
  try {
    return { ...seen, auditOk: (await vault.verifyAudit()).ok };
  } finally {
    await vault.close();
  }
}

/** How many rows of `action` a vault file's audit log holds, `onlyUnsubjected` those naming no subject (read from the file: a technician reads no audit log). */
export function auditActionsIn(file: string, action: string, onlyUnsubjected = false): number {
  const db = new Database(file, { readonly: true });
  try {
    const sql = `SELECT count(*) AS n FROM audit_log WHERE action = ?${onlyUnsubjected ? ' AND subject IS NULL' : ''}`;
    return db.prepare<[string], { n: number }>(sql).get(action)?.n ?? 0;
  } finally {
    db.close();
  }
}
