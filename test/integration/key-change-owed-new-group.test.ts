/**
 * No key change owed for a revoke that rode with its rotation (issue #15, docs/SYNC.md "A key change owed"): the owner
 * makes a group Night on desktop a, grants bob it and revokes him again before any sync. The server never stored Night,
 * so bob's revoke goes with the group's records. Signed at the rotation's version (replica-people.ts agreedVersion),
 * every desktop holding Night read it as a revoke standing at the version it holds and told its managers at each sync
 * that the key was owed a change, for nothing: bob never held that key, nor any of Night's. Now it is signed below the
 * rotation it goes with, at the version bob was wrapped at here, and a desktop taking both in reads it as passed.
 * What must still be owed is: bob granted Night for real afterwards, his key pulled, then revoked, the rotation lost;
 * the old revoke, signed below, played back by a dishonest server changes nothing of it.
 * Real desktops (real vault files) against a real team server on loopback (test/support/team-desktops.ts).
 * Must never: sleep (the clock is injected) or reach beyond loopback.
 */
import { describe, expect, it } from 'vitest';
import { syncOnce, type SyncOutcome } from '../../electron/team/sync';
import type { ReplicaRecord } from '../../shared/sync/records';
import { groupOnServer, groupUidOn, OWED_BOB_NIGHT, owedIn, storedRevoke } from '../support/key-change-owed';
import { lastPageAlsoCarries, pullsKeeping } from '../support/played-back';
import { keptClient, losingRotations, outcomeOf, synced } from '../support/revoke-first';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER } from '../support/vault';

describe('a revoke sent with its rotation, of a group the server never stored', () => {
  const clock = manualClock(Date.UTC(2026, 11, 12, 9, 0, 0));
  const team = useTeamDesktops('crewvault-key-change-owed-new-group', clock);
  const { a, a2, b, onDesktop } = team;
  /** bob's revoke that went with Night's records, as a2's pull handed it (what a dishonest server keeps, to play back later). */
  const kept: ReplicaRecord[] = [];
  let night = 0;
  let nightUid = '';

  it('notes no key change owed on the desktops that take it in', async () => {
    night = await onDesktop(a, async (s) => {
      const made = await s.team.createGroup('Night');
      await s.team.grant(made.id, BOB, false, await s.team.groupRevision(made.id));
      await s.team.revoke(made.id, BOB, await s.team.memberRevision(made.id, BOB));
      return made.id;
    });
    expect((await synced(team, a)).keyChangesOwed).toBeUndefined();
    nightUid = await groupUidOn(team, a, 'Night');
    const keepRevoke = (r: ReplicaRecord): boolean => r.kind === 'member' && r.revoked && r.group === nightUid;
    const taken = await onDesktop(a2, async (s): Promise<SyncOutcome> => syncOnce(pullsKeeping(await keptClient(team, a2, () => clock.now()), keepRevoke, kept), s.replica));
    expect(kept).toHaveLength(1);
    expect(taken.keyChangesOwed).toBeUndefined();
    expect(owedIn(a2)).toEqual([]);
    expect((await synced(team, a2)).keyChangesOwed).toBeUndefined();
    expect(owedIn(a)).toEqual([]);
    // The server holds Night at the rotation's version, without bob; his revoke signed below it (the version he was wrapped at here).
    expect(await groupOnServer(team, nightUid, [OWNER, BOB])).toEqual({ holders: [OWNER], version: 2 });
    expect(await storedRevoke(team, nightUid, BOB)).toMatchObject({ revoked: true, keyVersion: 1 });
    // bob's desktop takes his revoke in and holds no Night.
    expect((await synced(team, b)).keyChangesOwed).toBeUndefined();
    expect(await onDesktop(b, async (s) => (await s.team.listGroups()).map((g) => g.name))).not.toContain('Night');
  }, 240_000);

  it('a key change owed for bob granted Night since and revoked, its rotation lost, is still told, an old revoke played back notwithstanding', async () => {
    await onDesktop(a, async (s) => s.team.grant(night, BOB, false, await s.team.groupRevision(night)));
    expect(await team.answer(a)).toBe('ok');
    // bob pulls Night's key at version 2.
    expect(await team.answer(b)).toBe('ok');
    expect(await onDesktop(b, async (s) => (await s.team.listGroups()).map((g) => g.name))).toContain('Night');
    expect(await team.answer(a2)).toBe('ok');
    await onDesktop(a, async (s) => s.team.revoke(night, BOB, await s.team.memberRevision(night, BOB)));
    expect(await onDesktop(a, async (s) => outcomeOf(syncOnce(losingRotations(await keptClient(team, a, () => clock.now())), s.replica)))).toMatch(/^SERVER_UNREACHABLE/);
    // Desktop a is never synced again from here: bob is cut off on the server, Night still at the version he holds.
    expect(await groupOnServer(team, nightUid, [OWNER, BOB])).toEqual({ holders: [OWNER], version: 2 });
    expect((await synced(team, a2)).keyChangesOwed).toBe(OWED_BOB_NIGHT);
    // The server plays back bob's first revoke, signed below the version Night is at: the note stands.
    const first = kept[0];
    if (first === undefined) throw new Error('bob\'s first revoke was not kept');
    const replayed = await onDesktop(a2, async (s): Promise<SyncOutcome> => syncOnce(lastPageAlsoCarries(await keptClient(team, a2, () => clock.now()), first), s.replica));
    expect(replayed.keyChangesOwed).toBe(OWED_BOB_NIGHT);
    expect((await synced(team, a2)).keyChangesOwed).toBe(OWED_BOB_NIGHT);
  }, 240_000);
});
