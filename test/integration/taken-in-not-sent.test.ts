/**
 * What a managing desktop pushes in the sync right after it takes in another's changes (docs/SYNC.md,
 * the `member` row's sending desktop): carol, made an admin, manages every group on her own desktop;
 * the owner's second desktop rotates Ops (bob revoked), then makes bob its lead again. carol's sync
 * takes each in and pushes none of it: on the team server every user, group and member record stays
 * as its author stored it — signer, revision and place. Before replica-service.ts noted the
 * sequences an apply wrote (store-replica-people.ts takenSeqs), every row the pull wrote was above
 * the sent sequence, so her push carried the owner's records again, signed as hers, one revision up
 * (4 records on the sync after a rotation against 1 on a quiet one). A real team server (PGlite,
 * loopback HTTP), the desktops of test/support/team-desktops.ts.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { BOB, CAROL, useTeamDesktops, storedPeopleOn, type StoredPerson } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 9, 0, 0));
const team = useTeamDesktops('crewvault-taken-in', clock);
const { a, a2, c, onDesktop, sync } = team;

/** The team server's user, group and member records, one a record id (the newest stored). */
const storedPeople = (): Promise<Map<string, StoredPerson>> => storedPeopleOn(team, a);

/** A person's global id as a vault file holds it (what the records they sign name as author). */
function userUidIn(file: string, name: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return uidText((db.prepare('SELECT uid FROM users WHERE name = ?').get(name) as { uid: Buffer }).uid);
  } finally {
    db.close();
  }
}

async function synced(d: typeof a): Promise<{ readonly pushed: number; readonly applied: number }> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as { pushed: number; applied: number };
}

describe('a managing desktop taking in another\'s rotation, grant and lead', () => {
  it('pushes none of those records as its own', async () => {
    // carol an admin (made on the owner's desktop), every group hers by role; each desktop caught up.
    await onDesktop(a, async (s) => { await s.team.changeRole(CAROL, 'admin', await s.team.userRevision(CAROL)); });
    await synced(a);
    await synced(c);
    await synced(a2);
    await synced(c);
    const carolUid = userUidIn(c.file, CAROL);
    expect(await onDesktop(c, async (s) => (await s.team.members(team.opsId)).map((m) => m.name).sort())).toEqual(['alice', BOB, CAROL].sort());

    // The owner's second desktop rotates Ops (bob revoked): a new key version, wraps for alice and carol, bob's revoke.
    await onDesktop(a2, async (s) => { await s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)); });
    await synced(a2);
    const rotated = await storedPeople();
    const took = await synced(c);
    expect(took.applied).toBeGreaterThan(0);
    expect(await onDesktop(c, async (s) => (await s.team.members(team.opsId)).map((m) => m.name).sort())).toEqual(['alice', CAROL].sort());
    // Nothing of it came back from carol: every record as its author stored it.
    expect(await storedPeople()).toEqual(rotated);

    // A grant making bob a lead, taken in the same way.
    await onDesktop(a2, async (s) => { await s.team.grant(team.opsId, BOB, true, await s.team.groupRevision(team.opsId)); });
    await synced(a2);
    const granted = await storedPeople();
    await synced(c);
    expect(await onDesktop(c, async (s) => (await s.team.members(team.opsId)).filter((m) => m.name === BOB).map((m) => m.lead))).toEqual([true]);
    expect(await storedPeople()).toEqual(granted);
    // None of the records on the server is carol's: she changed nothing of the people here.
    expect([...granted.values()].filter((r) => r.author === carolUid)).toEqual([]);

    // What carol changes herself still goes, signed as hers.
    await onDesktop(c, async (s) => { await s.team.setLead(team.opsId, BOB, false, await s.team.memberRevision(team.opsId, BOB)); });
    await synced(c);
    const after = await storedPeople();
    const changed = [...after].filter(([id, r]) => granted.get(id)?.seq !== r.seq);
    expect(changed.map(([, r]) => ({ kind: r.kind, author: r.author }))).toEqual([{ kind: 'member', author: carolUid }]);
  });

  it('still sends a rename made here that a rotation taken in did not take over', async () => {
    const carolUid = userUidIn(c.file, CAROL);
    const groupName = (d: typeof a) => onDesktop(d, async (s) => (await s.team.listGroups()).find((g) => g.id === team.opsId)?.name);
    await synced(a2);
    await onDesktop(c, async (s) => { await s.team.renameGroup(team.opsId, 'Ops and network', await s.team.groupRevision(team.opsId)); });
    // Ops rotated on the owner's second desktop before carol's rename reaches the server.
    await onDesktop(a2, async (s) => { await s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)); });
    await synced(a2);
    await synced(c);
    expect(await groupName(c)).toBe('Ops and network');
    const ops = [...(await storedPeople()).values()].filter((r) => r.kind === 'group' && r.author === carolUid);
    expect(ops).toHaveLength(1);
    await synced(a2);
    expect(await groupName(a2)).toBe('Ops and network');
  });
});
