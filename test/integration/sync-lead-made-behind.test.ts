/**
 * A lead made on a desktop behind the team server (docs/SYNC.md, the `member` row): the owner's
 * first desktop makes bob a lead of Ops while its second, synced first, rotates Ops's key (carol
 * granted and removed). The pull brings bob's member record at the new version, not a lead; the
 * first desktop keeps its making on that record's wrap, one revision above it, sends it, says so
 * (`crewvault sync --json` crossed, audited user.crossed), and the second desktop then holds bob
 * as a lead. Before replica-people-in.ts takeCrossing, the making was overwritten silently. A real
 * team server (PGlite, loopback HTTP), the owner's two desktops (test/support/team-desktops.ts).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
const team = useTeamDesktops('crewvault-lead-behind', clock);
const { a, a2, b, onDesktop, sync } = team;

interface SyncJson {
  readonly crossed: ReadonlyArray<{ readonly user: string; readonly detail: string }>;
}

const bobInOps = (d: typeof a) => onDesktop(d, async (s) => (await s.team.members(team.opsId)).filter((m) => m.name === BOB).map((m) => ({ lead: m.lead })));

/** bob's row of Ops as a file holds it (bob's own desktop may not list a group's members). */
function bobLeadsIn(file: string): Array<{ readonly lead: number; readonly key_version: number }> {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[number, string], { lead: number; key_version: number }>(
      'SELECT gk.is_lead AS lead, gk.key_version FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ? AND u.name = ?',
    ).all(team.opsId, BOB);
  } finally {
    db.close();
  }
}

function crossedRows(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], { subject: string }>("SELECT subject FROM audit_log WHERE action = 'user.crossed' ORDER BY id").all().map((r) => r.subject);
  } finally {
    db.close();
  }
}

describe('a lead made on a desktop behind the server', () => {
  it('is kept across a rotation made elsewhere, sent at the new key version, and told', async () => {
    await onDesktop(a2, async (s) => {
      await s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId));
      await s.team.revoke(team.opsId, CAROL, await s.team.memberRevision(team.opsId, CAROL));
    });
    const rotated = await sync(a2);
    expect(rotated.code, rotated.stderr).toBe('ok');
    expect(await bobInOps(a2)).toEqual([{ lead: false }]);

    await onDesktop(a, async (s) => { await s.team.setLead(team.opsId, BOB, true, await s.team.memberRevision(team.opsId, BOB)); });
    const behind = await sync(a);
    expect(behind.code, behind.stderr).toBe('ok');
    const crossed = (JSON.parse(behind.stdout) as SyncJson).crossed;
    expect(crossed.map((c) => c.user)).toEqual([BOB]);
    expect(crossed[0]?.detail).toContain('made a lead here: kept');
    expect(await bobInOps(a)).toEqual([{ lead: true }]);
    expect(crossedRows(a.file)).toEqual([BOB]);

    // The making reached the server at the new version: the second desktop holds bob as a lead, with nothing crossed there.
    const after = await sync(a2);
    expect(after.code, after.stderr).toBe('ok');
    expect((JSON.parse(after.stdout) as SyncJson).crossed).toEqual([]);
    expect(await bobInOps(a2)).toEqual([{ lead: true }]);
    // bob's own desktop takes the making too: the wraps the first desktop made again at the new version open to the key it holds.
    const bobs = await sync(b);
    expect(bobs.code, bobs.stderr).toBe('ok');
    expect(bobLeadsIn(b.file)).toEqual([{ lead: 1, key_version: 2 }]);
    // A sync after it has nothing more to send or tell.
    const quiet = await sync(a);
    expect((JSON.parse(quiet.stdout) as SyncJson).crossed).toEqual([]);
    expect(await bobInOps(a)).toEqual([{ lead: true }]);
  });
});
