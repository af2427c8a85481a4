/**
 * What the tests of a key change owed for a group or user new to the server share (docs/SYNC.md "A key change owed"):
 * the note as a desktop's file holds it, and a group and its stored revokes as the server holds them, read through its
 * own store. Real files and a real server.
 * Must never: sleep, or reach beyond loopback.
 */
import Database from 'better-sqlite3';
import { uidText } from '../../electron/vault/ids';
import { getGroup, getMembership } from '../../server/store/membership';
import { recordsAfter } from '../../server/store/sync';
import type { MemberRecord, ReplicaRecord } from '../../shared/sync/records';
import { userUidIn } from './revoke-first';
import type { Desktop, TeamDesktops } from './team-desktops';

export const OWED_BOB_NIGHT = 'bob was removed from Night on the server, but its key has not been changed since: what is written there stays under the key bob held. Change it: crewvault group rotate Night (or the Groups screen).';

/** The key changes a desktop has noted as owed (read from its vault file). */
export function owedIn(d: Desktop): unknown[] {
  const db = new Database(d.file, { readonly: true });
  try {
    const row = db.prepare("SELECT value FROM settings WHERE key = 'replica.key_changes_owed'").get() as { value: string } | undefined;
    return row === undefined ? [] : (JSON.parse(row.value) as unknown[]);
  } finally {
    db.close();
  }
}

/** The global id of the group named so on desktop `d` (its name is sealed: found through the session). */
export async function groupUidOn(team: TeamDesktops, d: Desktop, name: string): Promise<string> {
  const id = await team.onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.name === name)?.id);
  if (id === undefined) throw new Error(`${d.name} holds no group ${name}`);
  const db = new Database(d.file, { readonly: true });
  try {
    return uidText((db.prepare('SELECT uid FROM access_groups WHERE id = ?').get(id) as { uid: Buffer }).uid);
  } finally {
    db.close();
  }
}

/** Who of `names` holds group `groupUid` on the server, and its key version there. */
export async function groupOnServer(team: TeamDesktops, groupUid: string, names: readonly string[]): Promise<{ readonly holders: string[]; readonly version: number | undefined }> {
  const vault = await team.onDesktop(team.a, (s) => s.replica.vaultId());
  return team.server.database.transaction(async (tx) => {
    const holders: string[] = [];
    for (const name of names) if ((await getMembership(tx, vault, groupUid, userUidIn(team.a.file, name))) !== undefined) holders.push(name);
    return { holders, version: (await getGroup(tx, vault, groupUid))?.keyVersion };
  });
}

/** The revoke of `user` from group `groupUid` as the server stores it (its newest member record of the pair). */
export async function storedRevoke(team: TeamDesktops, groupUid: string, user: string): Promise<MemberRecord | undefined> {
  const vault = await team.onDesktop(team.a, (s) => s.replica.vaultId());
  const rows = await team.server.database.transaction((tx) => recordsAfter(tx, vault, 0, 100_000, Number.MAX_SAFE_INTEGER));
  const userUid = userUidIn(team.a.file, user);
  const members = rows.map((row) => JSON.parse(row.body) as ReplicaRecord).filter((r): r is MemberRecord => r.kind === 'member' && r.group === groupUid && r.user === userUid);
  return members.at(-1);
}
